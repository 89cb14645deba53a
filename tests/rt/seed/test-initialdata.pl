# Test-only additions to noc-initialdata.pl: two more dispatchers, so tests can
# hand tickets between people, and an operator account with exactly the rights
# an operator has on most real RT installations (docs/rt.md, "Rights"): no
# CreateTicket, no ModifyCustomField and, above all, no ShowOutgoingEmail, so
# RT hides the autoreply EmailRecord transactions from it and its searches come
# back with short pages. Their passwords are for looking around in a test RT's
# web UI; never load this file into a real RT.

@Users = (
    {
        Name         => 'alice',
        RealName     => 'Alice Dispatcher',
        EmailAddress => 'alice@noc-console.test',
        Password     => 'alice-password',
        Privileged   => 1,
    },
    {
        Name         => 'bob',
        RealName     => 'Bob Engineer',
        EmailAddress => 'bob@noc-console.test',
        Password     => 'bob-password',
        Privileged   => 1,
    },
    {
        Name         => 'operator',
        RealName     => 'NOC Operator',
        EmailAddress => 'operator@noc-console.test',
        Password     => 'operator-password',
        Privileged   => 1,
    },
    # Fewer rights still: may see tickets and comment, may neither read comments
    # nor reply (for the console's notices about missing rights).
    {
        Name         => 'watcher',
        RealName     => 'NOC Watcher',
        EmailAddress => 'watcher@noc-console.test',
        Password     => 'watcher-password',
        Privileged   => 1,
    },
);

@Groups = (
    {
        Name        => 'NOC Operators',
        Description => 'Operators: the usual rights of an operator, nothing more',
    },
);

@Members = (
    { Group => 'NOC Dispatchers', Name => 'alice' },
    { Group => 'NOC Dispatchers', Name => 'bob' },
    { Group => 'NOC Operators',   Name => 'operator' },
);

# Exactly these on the queue (add-queues.pl copies them to the spare queues),
# and the right to make its own auth token.
@ACL = (
    {
        GroupDomain => 'UserDefined',
        GroupId     => 'NOC Operators',
        Queue       => 'NOC',
        Right       => [
            qw(SeeQueue ShowTicket ShowTicketComments SeeCustomField ModifyTicket
                CommentOnTicket ReplyToTicket OwnTicket TakeTicket)
        ],
    },
    {
        GroupDomain => 'UserDefined',
        GroupId     => 'NOC Operators',
        Right       => 'ManageAuthTokens',
    },
    {
        UserId => 'watcher',
        Queue  => 'NOC',
        Right  => [qw(SeeQueue ShowTicket SeeCustomField CommentOnTicket)],
    },
);

1;
