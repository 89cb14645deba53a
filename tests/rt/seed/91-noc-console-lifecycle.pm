# NOC Console's test RT (tests/rt/rtserver.py): a custom lifecycle, as a site
# that runs incidents in RT would configure one. Installed into
# /etc/request-tracker5/RT_SiteConfig.d/ by .ci/install-rt; RT merges it with
# its own lifecycles. Inert unless NOC_RT_DATABASE is set (the tests' RT only).
#
# The tests put a spare queue on it (Admin > Queues > Lifecycle) and map its
# statuses in settings.toml ([rt.statuses], [rt.set_status]); docs/rt.md shows
# the same mapping. RT's transition rules below decide which moves are allowed:
# for example new -> mitigated is not, so RT refuses it.
if ( $ENV{NOC_RT_DATABASE} ) {
    Set(%Lifecycles,
        'noc-incident' => {
            initial  => [qw(new)],
            active   => [qw(triage investigating mitigated)],
            inactive => [qw(resolved rejected deleted)],
            defaults => { on_create => 'new' },
            transitions => {
                ''            => [qw(new triage)],
                new           => [qw(triage rejected deleted)],
                triage        => [qw(investigating rejected deleted)],
                investigating => [qw(triage mitigated resolved rejected)],
                mitigated     => [qw(investigating resolved)],
                resolved      => [qw(investigating)],
                rejected      => [qw(triage)],
                deleted       => [qw(new)],
            },
            rights => {
                '* -> deleted' => 'DeleteTicket',
                '* -> *'       => 'ModifyTicket',
            },
            actions => [
                'new -> triage'              => { label => 'Triage' },
                'triage -> investigating'    => { label => 'Investigate' },
                'investigating -> mitigated' => { label => 'Mitigated' },
                'mitigated -> resolved'      => { label => 'Resolve', update => 'Respond' },
            ],
        },
        # Tickets moved between a NOC-incident queue and a default queue keep a
        # status of the other lifecycle.
        __maps__ => {
            'default -> noc-incident' => {
                new      => 'new',
                open     => 'investigating',
                stalled  => 'investigating',
                resolved => 'resolved',
                rejected => 'rejected',
                deleted  => 'deleted',
            },
            'noc-incident -> default' => {
                new           => 'new',
                triage        => 'open',
                investigating => 'open',
                mitigated     => 'open',
                resolved      => 'resolved',
                rejected      => 'rejected',
                deleted       => 'deleted',
            },
        },
    );
}
1;
