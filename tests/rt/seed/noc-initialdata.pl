# RT "initialdata" with what docs/rt-setup.md asks an RT admin to set up for
# NOC Console: queue NOC, its five custom fields and the recommended request
# key fields, the group "NOC Dispatchers" with a dispatcher's rights, and the
# console's user in it. Load it into RT with
#   rt-setup-database-5 --action insert --datafile noc-initialdata.pl
# (tests/rt/rtserver.py does so when it builds the test RT's template database).

@Queues = (
    {
        Name              => 'NOC',
        Description       => 'Network operations incidents (NOC Console)',
        CorrespondAddress => '',
        CommentAddress    => '',
    },
);

@Groups = (
    {
        Name        => 'NOC Dispatchers',
        Description => 'People and consoles that work the NOC queue',
    },
);

# The account NOC Console signs in as. It needs no password: an admin makes its
# auth token under Admin > Users > noc-console > Auth Tokens.
@Users = (
    {
        Name         => 'noc-console',
        RealName     => 'NOC Console',
        EmailAddress => 'noc-console@noc-console.test',
        Privileged   => 1,
    },
);

@Members = ( { Group => 'NOC Dispatchers', Name => 'noc-console' } );

# A select field's values, in the order RT offers them.
sub choices {
    my $order = 0;
    return [ map { { Name => $_, SortOrder => ++$order } } @_ ];
}

@CustomFields = (
    {
        Name        => 'Impact',
        Type        => 'SelectSingle',
        LookupType  => 'RT::Queue-RT::Ticket',
        Description => 'How much of the service is affected',
        ApplyTo     => 'NOC',
        Values      => choices(qw(high medium low)),
    },
    {
        Name        => 'Urgency',
        Type        => 'SelectSingle',
        LookupType  => 'RT::Queue-RT::Ticket',
        Description => 'How soon the business needs it fixed',
        ApplyTo     => 'NOC',
        Values      => choices(qw(high medium low)),
    },
    {
        Name        => 'Severity',
        Type        => 'SelectSingle',
        LookupType  => 'RT::Queue-RT::Ticket',
        Description => 'SEV-1 (worst) to SEV-4',
        ApplyTo     => 'NOC',
        Values      => choices(qw(SEV-1 SEV-2 SEV-3 SEV-4)),
    },
    {
        Name        => 'Service',
        Type        => 'FreeformSingle',
        LookupType  => 'RT::Queue-RT::Ticket',
        Description => 'The affected service',
        ApplyTo     => 'NOC',
    },
    {
        Name        => 'Category',
        Type        => 'FreeformSingle',
        LookupType  => 'RT::Queue-RT::Ticket',
        Description => 'The kind of incident (network, power, application, ...)',
        ApplyTo     => 'NOC',
    },
    # The request keys (recommended): the console writes the key of each ticket
    # and each note it sends, so that one sent again after its answer was lost
    # is recognised instead of made twice. One field for tickets, one of the
    # same name for ticket transactions (comments and correspondence).
    {
        Name        => 'NOC Request Key',
        Type        => 'FreeformSingle',
        LookupType  => 'RT::Queue-RT::Ticket',
        Description => 'Written by NOC Console: which of its requests made this ticket',
        ApplyTo     => 'NOC',
    },
    {
        Name        => 'NOC Request Key',
        Type        => 'FreeformSingle',
        LookupType  => 'RT::Queue-RT::Ticket-RT::Transaction',
        Description => 'Written by NOC Console: which of its requests made this reply or comment',
        ApplyTo     => 'NOC',
    },
);

# What a dispatcher may do on the NOC queue. SeeCustomField and
# ModifyCustomField granted on the queue cover the custom fields applied to it.
my @dispatcher_rights = qw(
    SeeQueue ShowTicket CreateTicket ModifyTicket
    CommentOnTicket ReplyToTicket ShowTicketComments
    OwnTicket TakeTicket StealTicket ReassignTicket
    Watch WatchAsAdminCc
    SeeCustomField ModifyCustomField
);

@ACL = (
    {
        GroupDomain => 'UserDefined',
        GroupId     => 'NOC Dispatchers',
        Queue       => 'NOC',
        Right       => \@dispatcher_rights,
    },
    # Lets each member make their own REST2 auth token under
    # "Logged in as ... > Settings > Auth Tokens".
    {
        GroupDomain => 'UserDefined',
        GroupId     => 'NOC Dispatchers',
        Right       => 'ManageAuthTokens',
    },
);

1;
