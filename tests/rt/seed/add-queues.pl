#!/usr/bin/perl
# Creates each queue named on the command line set up like queue NOC: the same
# ticket and ticket transaction custom fields applied and the same rights
# granted to the same groups and users. Run as the user the RT web server runs
# as, with the environment that selects the database.
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib', '/usr/local/share/request-tracker5/lib';
use RT -init;

die "usage: $0 QUEUE [QUEUE ...]\n" unless @ARGV;

my $model = RT::Queue->new( RT->SystemUser );
$model->Load('NOC');
die "queue NOC is missing: load noc-initialdata.pl first\n" unless $model->Id;

my @fields;
for my $applied ( $model->TicketCustomFields, $model->TicketTransactionCustomFields ) {
    while ( my $cf = $applied->Next ) { push @fields, $cf }
}

my @grants;
my $aces = RT::ACL->new( RT->SystemUser );
$aces->LimitToObject($model);
while ( my $ace = $aces->Next ) {
    push @grants, [ $ace->PrincipalObj, $ace->RightName ];
}

for my $name (@ARGV) {
    my $queue = RT::Queue->new( RT->SystemUser );
    my ( $id, $msg ) = $queue->Create(
        Name              => $name,
        Description       => 'Test queue set up like NOC',
        CorrespondAddress => '',
        CommentAddress    => '',
    );
    die "cannot create queue $name: $msg\n" unless $id;
    for my $cf (@fields) {
        my ( $ok, $why ) = $cf->AddToObject($queue);
        die "cannot apply custom field " . $cf->Name . " to $name: $why\n" unless $ok;
    }
    for my $grant (@grants) {
        my ( $principal, $right ) = @$grant;
        my ( $ok, $why ) = $principal->GrantRight( Object => $queue, Right => $right );
        die "cannot grant $right on $name: $why\n" unless $ok;
    }
    print "$name $id\n";
}
