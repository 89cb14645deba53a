# Test-only additions to noc-initialdata.pl: two more dispatchers, so tests can
# hand tickets between people. Their passwords are for looking around in a test
# RT's web UI; never load this file into a real RT.

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
);

@Members = (
    { Group => 'NOC Dispatchers', Name => 'alice' },
    { Group => 'NOC Dispatchers', Name => 'bob' },
);

1;
