#!/usr/bin/perl
# Prints one new REST2 auth token per user name given, one per line:
#   <user> <token-id> <token>
# RT 5 has no command-line tool for auth tokens; this does what
# "Settings > Auth Tokens > Create" does in the web UI. Run as the user the RT
# web server runs as, with the environment that selects the database.
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib', '/usr/local/share/request-tracker5/lib';
use RT -init;
use RT::AuthToken;

die "usage: $0 USER [USER ...]\n" unless @ARGV;
for my $name (@ARGV) {
    my $user = RT::User->new( RT->SystemUser );
    $user->Load($name);
    die "no RT user named '$name'\n" unless $user->Id;
    my $token = RT::AuthToken->new( RT->SystemUser );
    my ( $ok, $msg, $auth_string ) = $token->Create(
        Owner       => $user->Id,
        Description => "NOC Console test token",
    );
    die "cannot make an auth token for '$name': $msg\n" unless $ok;
    print "$name " . $token->Id . " $auth_string\n";
}
