# NOC Console's test RT (tests/rt/rtserver.py). Installed into
# /etc/request-tracker5/RT_SiteConfig.d/ by .ci/install-rt.
#
# Inert unless NOC_RT_DATABASE is set in an RT process's environment, so the
# packaged RT and its default database are untouched. With it set, the process
# uses that SQLite file, serves RT at the web root of NOC_RT_WEB_BASE_URL, logs
# to stderr instead of syslog, writes outgoing mail to a temporary file instead
# of handing it to sendmail, and hashes new passwords and auth tokens with
# bcrypt cost NOC_RT_BCRYPT_COST (RT checks a token's hash on every request).
if ( $ENV{NOC_RT_DATABASE} ) {
    Set( $DatabaseType, 'SQLite' );
    Set( $DatabaseName, $ENV{NOC_RT_DATABASE} );
    Set( $WebPath,      '' );
    if ( my $base = $ENV{NOC_RT_WEB_BASE_URL} ) {
        my ( $scheme, $host, $port ) = $base =~ m{^(https?)://([^/:]+)(?::(\d+))?};
        Set( $WebDomain,  $host );
        Set( $WebPort,    $port || ( $scheme eq 'https' ? 443 : 80 ) );
        Set( $WebBaseURL, $base );
    }
    Set( $BcryptCost,   $ENV{NOC_RT_BCRYPT_COST} ) if $ENV{NOC_RT_BCRYPT_COST};
    Set( $LogToSyslog,  undef );
    Set( $LogToFile,    undef );
    Set( $LogToSTDERR,  $ENV{NOC_RT_LOG_LEVEL} || 'warning' );
    Set( $MailCommand,  'testfile' );
}
1;
