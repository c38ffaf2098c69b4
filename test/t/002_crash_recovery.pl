# Crash tests: park the provisioning worker at each fault point, kill it (or the caller,
# or the whole server), restart, retry, and prove the project ends complete: one role, one
# database, a working login with the returned URL, and claudable_check() empty.
# Needs a build with FAULT_INJECTION=1 (make test installs one).
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $fault_lock = 1668047874;    # fault_lock_class in extension/testing/fault_injection.hpp

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# Logins with a project's URL go over TCP and must prove the password: no trust for TCP.
$node->append_conf('postgresql.conf',
    "listen_addresses = '127.0.0.1'\npassword_encryption = 'scram-sha-256'\nrestart_after_crash = on");  # the suite kills workers
open(my $hba, '>', $node->data_dir . '/pg_hba.conf') or die "pg_hba.conf: $!";
print $hba "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n";
close($hba);
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION claudable;
    ALTER SYSTEM SET claudable.host = '127.0.0.1';
    REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
    REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
    SELECT pg_reload_conf();
});
# Every scenario injects one fault; it has recovered when each of its checks passed.
my ($faults_injected, $faults_recovered) = (0, 0);
my $scenario_start = 0;
sub scenario { $scenario_start = Test::More->builder->current_test; }
sub scenario_recovered {
    my @results = Test::More->builder->summary;
    $faults_recovered++ unless grep { !$_ } @results[$scenario_start .. $#results];
}

sub value { my ($sql) = @_; return $node->safe_psql('postgres', $sql); }
sub wait_for { my ($sql) = @_; return $node->poll_query_until('postgres', $sql); }

# A session of its own holds the fault lock, so a worker at the armed point parks there.
my $holder;
sub hold_fault_lock {
    $holder = IPC::Run::start(['psql', '-X', '-d', $node->connstr('postgres'),
                               '-c', "SELECT pg_advisory_lock($fault_lock, 0)", '-c', 'SELECT pg_sleep(600)'],
                              '>', \my $out, '2>', \my $err);
    wait_for("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $fault_lock AND granted)")
      or die 'the fault lock was not taken';
}
sub release_fault_lock {
    value("SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND classid = $fault_lock AND granted");
    $holder->finish;
}

# A call with the fault point armed, in the background, until its worker is parked.
my ($caller, $caller_output);
sub start_parked_call {
    my ($project, $point, $call) = @_;
    $call //= "SELECT created FROM claudable_provision('$project', 'owner-crash')";
    $caller_output = '';
    $caller = IPC::Run::start(['psql', '-X', '-At', '-d', $node->connstr('postgres'),
                               '-c', "SET claudable.fault_point = '$point'", '-c', $call],
                              '>', \$caller_output, '2>', \$caller_output);
    return wait_for("SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                                     WHERE backend_type = 'claudable provisioner' AND query = 'claudable: fault point $point')");
}
# The parked one: others may be idle, waiting for a next call (claudable.worker_idle_timeout).
sub worker_pid {
    return value("SELECT pid FROM pg_stat_activity WHERE backend_type = 'claudable provisioner'
                   AND query LIKE 'claudable: fault point %' LIMIT 1");
}
sub caller_pid {
    my ($project) = @_;
    return value("SELECT pid FROM pg_stat_activity WHERE query LIKE '%claudable_provision(''$project''%'
                   AND backend_type = 'client backend' AND pid <> pg_backend_pid() LIMIT 1");
}
sub wait_until_up { return wait_for('SELECT true'); }

# The end state every scenario must reach.
sub assert_complete {
    my ($project, $slug) = @_;
    my $url = value("SELECT database_url FROM claudable_provision('$project', 'owner-crash')");
    is(value("SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_$slug') || '/' ||
                     (SELECT count(*) FROM pg_database WHERE datname = 'app_db_$slug')"),
       '1/1', "$project: exactly one role and one database");
    my ($rc, $user) = $node->psql('postgres', 'SELECT current_user', connstr => $url);
    is($user, "app_u_$slug", "$project: the returned DATABASE_URL logs in");
    is(value('SELECT count(*) FROM claudable_check()'), '0', "$project: claudable_check() reports nothing");
    scenario_recovered();
}

note 'kill -9 of the worker at each fault point, then a retry';
for my $point (qw(after_reservation after_role after_database before_ready)) {
    (my $project = "kill-$point") =~ s/_/-/g;
    scenario();
    hold_fault_lock();
    ok(start_parked_call($project, $point), "$project: the worker parks at $point");
    kill('KILL', worker_pid()) and $faults_injected++;
    $caller->finish;
    ok(wait_until_up(), "$project: the server is back after crash recovery");
    is(value("SELECT count(*) FROM claudable_provision('$project', 'owner-crash')"), '1', "$project: the retry succeeds");
    assert_complete($project, "kill_$point");
}

note 'immediate shutdown while the worker is between role and database';
scenario();
hold_fault_lock();
ok(start_parked_call('immediate-stop', 'after_role'), 'immediate-stop: the worker parks at after_role');
$node->stop('immediate');
$faults_injected++;
$caller->finish;
$node->start;
ok(wait_until_up(), 'immediate-stop: the server restarts');
is(value("SELECT problem FROM claudable_check() WHERE object = 'project immediate-stop'"),
   'stuck in provisioning with no worker running (claudable_reconcile() completes it)',
   'immediate-stop: claudable_check() reports the project stuck in provisioning');
is(value("SELECT action FROM claudable_reconcile() WHERE object = 'project immediate-stop'"), 'repaired',
   'immediate-stop: claudable_reconcile() completes it');
assert_complete('immediate-stop', 'immediate_stop');

note "the caller's backend is terminated while it waits; the worker finishes alone";
scenario();
hold_fault_lock();
ok(start_parked_call('caller-terminated', 'after_database'), 'caller-terminated: the worker parks at after_database');
value('SELECT pg_terminate_backend(' . caller_pid('caller-terminated') . ')') eq 't' and $faults_injected++;
$caller->finish;
release_fault_lock();
ok(wait_for("SELECT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'caller-terminated' AND status = 'ready')"),
   'caller-terminated: the worker completes the project without its caller');
is(value("SELECT created FROM claudable_provision('caller-terminated', 'owner-crash')"), 'f',
   'caller-terminated: the next call returns it with created = false');
assert_complete('caller-terminated', 'caller_terminated');

note "kill -9 of the caller's backend while it waits";
scenario();
hold_fault_lock();
ok(start_parked_call('caller-killed', 'after_role'), 'caller-killed: the worker parks at after_role');
kill('KILL', caller_pid('caller-killed')) and $faults_injected++;
$caller->finish;
ok(wait_until_up(), 'caller-killed: the server is back after crash recovery');
is(value("SELECT count(*) FROM claudable_provision('caller-killed', 'owner-crash')"), '1', 'caller-killed: the retry succeeds');
assert_complete('caller-killed', 'caller_killed');

note 'the worker is terminated (SIGTERM) before ready: the caller gets its FATAL as an ERROR';
scenario();
hold_fault_lock();
ok(start_parked_call('worker-terminated', 'before_ready'), 'worker-terminated: the worker parks at before_ready');
value('SELECT pg_terminate_backend(' . worker_pid() . ')') eq 't' and $faults_injected++;
$caller->finish;
like($caller_output, qr/ERROR:  terminating background worker "claudable provisioner" due to administrator command/,
     "worker-terminated: the caller gets the worker's own FATAL as an ERROR");
like($caller_output, qr/claudable worker: provisioning project "worker-terminated"/,
     'worker-terminated: with the job as context');
release_fault_lock();
is(value("SELECT count(*) FROM claudable_provision('worker-terminated', 'owner-crash')"), '1',
   'worker-terminated: the retry succeeds');
assert_complete('worker-terminated', 'worker_terminated');

sub nothing_left {
    my ($project, $slug) = @_;
    return value("SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_$slug')
                       + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_$slug')
                       + (SELECT count(*) FROM claudable.projects WHERE project_id = '$project')
                       + (SELECT count(*) FROM claudable_check())");
}

note 'kill -9 of the worker in the middle of a deprovisioning, then a retry';
scenario();
value("SELECT created FROM claudable_provision('kill-deprovision', 'owner-crash')");
hold_fault_lock();
ok(start_parked_call('kill-deprovision', 'deprovision_marked', "SELECT claudable_deprovision('kill-deprovision', 'owner-crash')"),
   'kill-deprovision: the worker parks after marking the project deprovisioning');
kill('KILL', worker_pid()) and $faults_injected++;
$caller->finish;
ok(wait_until_up(), 'kill-deprovision: the server is back after crash recovery');
is(value("SELECT problem FROM claudable_check() WHERE object = 'project kill-deprovision'"),
   'stuck in deprovisioning with no worker running (claudable_reconcile() completes it)',
   'kill-deprovision: claudable_check() reports the interrupted deprovisioning');
is(value("SELECT claudable_deprovision('kill-deprovision', 'owner-crash')"), 't', 'kill-deprovision: the retry finishes it');
is(nothing_left('kill-deprovision', 'kill_deprovision'), '0', 'kill-deprovision: no role, no database, no record and no finding remain');
scenario_recovered();

note 'kill -9 of the worker after the role lost its login, before anything is dropped';
scenario();
my $lockout_url = value("SELECT database_url FROM claudable_provision('kill-lockout', 'owner-crash')");
hold_fault_lock();
ok(start_parked_call('kill-lockout', 'deprovision_locked_out', "SELECT claudable_deprovision('kill-lockout', 'owner-crash')"),
   "kill-lockout: the worker parks once the role's login is taken away");
kill('KILL', worker_pid()) and $faults_injected++;
$caller->finish;
ok(wait_until_up(), 'kill-lockout: the server is back after crash recovery');
is(value("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_u_kill_lockout'"), 'f',
   "kill-lockout: the role's NOLOGIN was committed before the crash");
my ($login_rc, $login_out, $login_err) = $node->psql('postgres', 'SELECT 1', connstr => $lockout_url);
like($login_err, qr/FATAL:  role "app_u_kill_lockout" is not permitted to log in/,
     "kill-lockout: the tenant's URL is refused by the server: its role may not log in (28000)");
is(value("SELECT claudable_deprovision('kill-lockout', 'owner-crash')"), 't', 'kill-lockout: the retry finishes the removal');
is(nothing_left('kill-lockout', 'kill_lockout'), '0', 'kill-lockout: no role, no database, no record and no finding remain');
scenario_recovered();

note 'a crash inside the claim of a spare leaves the spare as it was, and no part of the project';
value(q{LOAD 'claudable'; ALTER SYSTEM SET claudable.spare_databases = 2; SELECT pg_reload_conf()});
is(value('SELECT claudable_refill_spares()'), '2', 'spares: the pool holds two');
my $claimable = q{SELECT string_agg(s.name, ',' ORDER BY s.name) FROM claudable.spares AS s
                    JOIN claudable.spare_pool('template0') AS p USING (name)
                   WHERE s.state = 'ready' AND p.fits AND p.intact};
sub project_parts {
    my ($project, $slug) = @_;
    return value("SELECT (SELECT count(*) FROM claudable.projects WHERE project_id = '$project')
                       + (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_$slug')
                       + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_$slug')");
}
for my $point (qw(claim_locked claim_renamed claim_recorded)) {
    (my $project = "spare-at-$point") =~ s/_/-/g;
    (my $slug = $project) =~ s/-/_/g;
    my $spares = value($claimable);
    scenario();
    hold_fault_lock();
    ok(start_parked_call($project, $point), "$project: the worker parks at $point, inside the claim's transaction");
    kill('KILL', worker_pid()) and $faults_injected++;
    $caller->finish;
    ok(wait_until_up(), "$project: the server is back after crash recovery");
    is(value($claimable), $spares, "$project: every spare is still there, ready and intact");
    is(project_parts($project, $slug), '0', "$project: no record, role or database of the project exists");
    is(value("SELECT created FROM claudable_provision('$project', 'owner-crash')"), 't', "$project: the retry creates it");
    like(value("SELECT detail FROM claudable.events WHERE project_id = '$project' AND outcome = 'succeeded'"),
         qr/^role and database claimed from spare claudable_spare_\d+$/, "$project: from a spare");
    value('SELECT claudable_refill_spares()');  # claudable_check() reports a pool below its target
    assert_complete($project, $slug);
}

note 'the worker is terminated (SIGTERM) inside the claim: the caller gets an error, the spare stays';
my $spares_before = value($claimable);
scenario();
hold_fault_lock();
ok(start_parked_call('spare-terminated', 'claim_recorded'), 'spare-terminated: the worker parks before the claim commits');
value('SELECT pg_terminate_backend(' . worker_pid() . ')') eq 't' and $faults_injected++;
$caller->finish;
like($caller_output, qr/ERROR:  terminating background worker/, 'spare-terminated: the caller gets the error');
release_fault_lock();
is(value($claimable), $spares_before, 'spare-terminated: every spare is still there, ready and intact');
is(project_parts('spare-terminated', 'spare_terminated'), '0', 'spare-terminated: and no part of the project exists');
scenario_recovered();
value(q{ALTER SYSTEM RESET claudable.spare_databases; SELECT pg_reload_conf()});
is(value('SELECT claudable_refill_spares()'), '0', 'spares: the pool is emptied again');

note 'snapshots, restores and branches: kill -9 of the worker at each step leaves the old state or the new one';
value("SELECT created FROM claudable_provision('versioned', 'owner-crash')");
my $versioned_url = value("SELECT database_url FROM claudable_provision('versioned', 'owner-crash')");
sub app {
    my ($sql, $url) = @_;
    my ($rc, $out, $err) = $node->psql('postgres', $sql, connstr => $url // $versioned_url);
    return $rc == 0 ? $out : "failed: $err";
}
app("CREATE TABLE state (v text); INSERT INTO state VALUES ('v1')");
my $base = value("SELECT snapshot_id FROM claudable_snapshot('versioned', 'owner-crash', 'v1')");
app("UPDATE state SET v = 'v2'");
my $restore_call = "SELECT created FROM claudable_restore('versioned', 'owner-crash', '$base')";
sub versioned_as_before {
    my ($label) = @_;
    is(value("SELECT string_agg(coalesce(label, '-'), ',' ORDER BY created_at) FROM claudable.snapshots
               WHERE project_id = 'versioned'"), 'v1', "$label: the snapshot taken before is kept, and no other");
    is(value(q{SELECT count(*) FROM pg_database WHERE datname ~ '^claudable_(snap|stage)_'}), '1',
       "$label: one snapshot database, no copy left over");
    is(value('SELECT count(*) FROM claudable_check()'), '0', "$label: claudable_check() reports nothing");
}
sub crash_at {
    my ($point, $call, $how) = @_;
    hold_fault_lock();
    ok(start_parked_call('versioned', $point, $call), "$point: the worker parks there");
    if ($how eq 'immediate') {
        $node->stop('immediate');
        $faults_injected++;
        $caller->finish;
        $node->start;
    } else {
        kill('KILL', worker_pid()) and $faults_injected++;
        $caller->finish;
    }
    ok(wait_until_up(), "$point: the server is back ($how)");
    is(app('SELECT v FROM state'), 'v2', "$point: at once, before any repair, the project's URL logs in to its data");
}
for my $case (['snapshot_recorded', "SELECT snapshot_id FROM claudable_snapshot('versioned', 'owner-crash')", 'creating', 'removed'],
              ['snapshot_copied', "SELECT snapshot_id FROM claudable_snapshot('versioned', 'owner-crash')", 'creating', 'removed'],
              ['restore_recorded', $restore_call, 'restoring', 'undone'],
              ['restore_staged', $restore_call, 'restoring', 'undone'],
              ['restore_swapped', $restore_call, 'restoring', 'undone']) {
    my ($point, $call, $state, $action) = @$case;
    scenario();
    crash_at($point, $call, 'kill -9');
    like(value(q{SELECT string_agg(problem, '; ') FROM claudable_check() WHERE object LIKE 'snapshot %'}),
         qr/^of project versioned is stuck in $state with no worker running/, "$point: claudable_check() reports the unfinished step");
    is(value(q{SELECT string_agg(action, ',') FROM claudable_reconcile()}), $action, "$point: claudable_reconcile() $action it");
    versioned_as_before($point);
    scenario_recovered();
}
scenario();
crash_at('restore_staged', $restore_call, 'immediate');
is(value(q{SELECT string_agg(action, ',') FROM claudable_reconcile()}), 'undone',
   'restore_staged: after an immediate shutdown claudable_reconcile() undoes the restore');
versioned_as_before('restore_staged, immediate shutdown');
scenario_recovered();
is(value($restore_call), 'f', 'after the crashes a restore goes through');
is(app('SELECT v FROM state'), 'v1', "and the same URL finds the snapshot's data");
app("UPDATE state SET v = 'v2'");
value(q{SELECT claudable_drop_snapshot('versioned', 'owner-crash', s.snapshot_id) FROM claudable.snapshots AS s
         WHERE s.project_id = 'versioned' AND s.label <> 'v1'});

for my $point (qw(branch_reserved branch_copied branch_adopted)) {
    (my $branch_id = "crash-$point") =~ s/_/-/g;
    my $call = "SELECT created FROM claudable_branch('versioned', 'owner-crash', '$branch_id')";
    scenario();
    crash_at($point, $call, 'kill -9');
    is(value("SELECT problem FROM claudable_check() WHERE object = 'project versioned~$branch_id'"),
       'stuck in provisioning with no worker running (claudable_reconcile() completes it)',
       "$point: claudable_check() reports the unfinished branch");
    is(value("SELECT detail FROM claudable_reconcile() WHERE object = 'project versioned~$branch_id'"),
       'the interrupted branch was removed (claudable_branch makes it anew)', "$point: claudable_reconcile() removes it");
    is(value(q{SELECT (SELECT count(*) FROM pg_database WHERE datname ~ '^app_br_')
                    + (SELECT count(*) FROM pg_roles WHERE rolname ~ '^app_bu_')}), '0',
       "$point: no database or role of the branch is left");
    is(value('SELECT count(*) FROM claudable_check()'), '0', "$point: claudable_check() reports nothing");
    is(value($call), 't', "$point: claudable_branch makes it anew");
    my $branch_url = value("SELECT database_url FROM claudable_provision('versioned~$branch_id', 'owner-crash')");
    is(app('SELECT current_user || \' \' || v FROM state', $branch_url) =~ s/^app_bu_\S+ /branch /r, 'branch v2',
       "$point: its URL logs in as its own role to the project's data");
    is(value("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app_db_versioned'"), 'app_u_versioned',
       "$point: the parent's database kept its owner");
    value("SELECT claudable_deprovision('versioned~$branch_id', 'owner-crash')");
    scenario_recovered();
}

note 'a deprovisioning that meets a branch being made waits for it: refused with 55000, nothing changed';
value("SELECT created FROM claudable_provision('busy-parent', 'owner-crash')");
hold_fault_lock();
ok(start_parked_call('busy-parent', 'branch_copied', "SELECT created FROM claudable_branch('busy-parent', 'owner-crash', 'b')"),
   'busy-parent: a branch is parked after its copy');
my ($busy_rc, $busy_out, $busy_err) = $node->psql('postgres', "SELECT claudable_deprovision('busy-parent', 'owner-crash')",
                                                  extra_params => ['-v', 'VERBOSITY=verbose']);
like($busy_err, qr/ERROR:  55000: claudable: project "busy-parent" has a snapshot, restore or branch under way/,
     'busy-parent: deprovisioning the parent meanwhile is refused with 55000');
is(value("SELECT status FROM claudable.projects WHERE project_id = 'busy-parent'"), 'ready', 'busy-parent: and changed nothing');
release_fault_lock();
$caller->finish;
like($caller_output, qr/^t$/m, 'busy-parent: the branch then completes');
is(value("SELECT claudable_deprovision('busy-parent', 'owner-crash')"), 't', 'busy-parent: and the deprovisioning goes through');
is(value(q{SELECT (SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'busy-parent%')
                + (SELECT count(*) FROM pg_database WHERE datname ~ '^app_(db|br)_busy_parent')}), '0',
   'busy-parent: removing the branch with it');

note 'fault injection is for superusers only';
value(q{CREATE ROLE fault_probe LOGIN;
        GRANT EXECUTE ON FUNCTION claudable_provision(text, text) TO fault_probe;
        GRANT CONNECT ON DATABASE postgres TO fault_probe});
my $as_probe = $node->connstr('postgres') . ' user=fault_probe';
my ($armed_rc, $armed_out, $armed_err) = $node->psql('postgres',
    "\\set VERBOSITY verbose
     SELECT count(*) FROM claudable_provision('probe-1', 'owner-crash');
     SET claudable.fault_point = 'after_role';
     SELECT current_setting('claudable.fault_point') = ''",
    connstr => $as_probe, on_error_stop => 0);
is($armed_out, "1\nt", 'a non-superuser provisions (the library is loaded), and its fault point stays unset');
like($armed_err, qr/ERROR:  42501: permission denied to set parameter "claudable\.fault_point"/,
     'a non-superuser cannot arm a fault point once the library is loaded (42501)');
hold_fault_lock();
my ($parked_rc, $created) = $node->psql('postgres',
    "SET statement_timeout = '20s'; SET claudable.fault_point = 'after_role';
     SELECT created FROM claudable_provision('probe-2', 'owner-crash')",
    connstr => $as_probe, on_error_stop => 1);
is($created, 't', 'a fault point a non-superuser set before the library loaded is discarded: the call does not park');
release_fault_lock();

is($faults_injected, 23, 'all 23 faults were injected (each kill, stop or termination hit its process)');
is($faults_recovered, $faults_injected, 'every injected fault recovered to a clean state');
$node->stop;
done_testing();
