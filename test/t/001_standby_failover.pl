# The default key setup survives failover with no manual step: a streaming standby made
# with pg_basebackup -R before CREATE EXTENSION, once promoted, returns the same password
# for every project; projects created and a key rotated on it stay readable after the
# next failover. Runs as a non-root OS user (make test runs it as postgres).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE DATABASE meta');

# The standby is cloned before the extension exists: it has never seen a key.
$primary->backup('before_extension');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'before_extension', has_streaming => 1);
$standby->start;

$primary->safe_psql('meta', 'CREATE EXTENSION claudable');
my %password;
for my $project ('ha-1', 'ha-2') {
	$password{$project} = $primary->safe_psql('meta', "SELECT password FROM claudable_provision('$project', 'owner-ha')");
}
# A spare pool on the primary: its databases, roles and sealed passwords replicate.
$primary->safe_psql('meta', "LOAD 'claudable'; ALTER SYSTEM SET claudable.spare_databases = 2; SELECT pg_reload_conf()");
is($primary->safe_psql('meta', 'SELECT claudable_refill_spares()'), '2', 'the primary keeps two spare databases');
$primary->wait_for_catchup($standby);

sub password_on {
	my ($node, $project) = @_;
	return $node->safe_psql('meta', "SELECT password FROM claudable_provision('$project', 'owner-ha')");
}

# Passwords are compared with ok(), never is(): a failing is() would print both.
ok(password_on($standby, 'ha-1') eq $password{'ha-1'},
	'a standby cloned before CREATE EXTENSION returns the password a lookup returns on the primary');
my ($rc, $out, $err) = $standby->psql('meta', "SELECT claudable_provision('ha-new', 'owner-ha')",
	extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/ERROR:  25006: claudable: cannot provision a new project on a standby server/,
	'a new project on the standby is refused (25006)');
is($standby->safe_psql('meta', 'SELECT count(*) FROM claudable_check() WHERE object = \'key\''), '0',
	'claudable_check() on the standby finds the key');
($rc, $out, $err) = $standby->psql('meta', 'SELECT claudable_refill_spares()', extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/ERROR:  25006: claudable: cannot provision a new project on a standby server/,
	'the standby refills no spare pool (25006)');

my $snapshot = $primary->safe_psql('meta', "SELECT snapshot_id FROM claudable_snapshot('ha-1', 'owner-ha', 'before failover')");
$primary->wait_for_catchup($standby);
is($standby->safe_psql('meta', "SELECT snapshot_id || ' ' || label FROM claudable_snapshots('ha-1', 'owner-ha')"),
	"$snapshot before failover", "the standby lists a snapshot taken on the primary");
($rc, $out, $err) = $standby->psql('meta', "SELECT claudable_snapshot('ha-1', 'owner-ha')", extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/ERROR:  25006: claudable: snapshots, restores and branches are made on the primary server, and this one is a standby/,
	'a snapshot on the standby is refused (25006)');
($rc, $out, $err) = $standby->psql('meta', "SELECT claudable_branch('ha-1', 'owner-ha', 'b')", extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/ERROR:  25006: claudable: snapshots, restores/, 'and so is a branch');

$primary->stop('immediate');
$standby->promote;
$standby->poll_query_until('meta', 'SELECT NOT pg_is_in_recovery()') or die 'promotion timed out';

ok(password_on($standby, $_) eq $password{$_}, "after failover $_ returns the same password") for sort keys %password;
$password{'ha-3'} = $standby->safe_psql('meta', "SELECT password FROM claudable_provision('ha-3', 'owner-ha')");
is($standby->safe_psql('meta', "SELECT created FROM claudable_restore('ha-1', 'owner-ha', '$snapshot')"), 'f',
	'the promoted server restores a snapshot taken on the old primary');
ok(password_on($standby, 'ha-1') eq $password{'ha-1'}, 'and the project keeps its password');
ok($password{'ha-3'} =~ /^[A-Za-z0-9_-]{32}$/, 'the promoted server provisions a new project');
like($standby->safe_psql('meta', "SELECT detail FROM claudable.events WHERE project_id = 'ha-3' AND action = 'provision'"),
	qr/^role and database claimed from spare claudable_spare_\d+$/, 'by claiming a spare made on the old primary');
is($standby->safe_psql('meta', "SELECT count(*) FROM claudable_check()
                                  WHERE problem LIKE 'password was changed outside claudable%' OR problem LIKE '%decrypt%'"),
	'0', "whose password, sealed on the old primary, matches its role's verifier");

# The next failover, with a key rotation on the promoted server in between.
$standby->backup('after_failover');
my $second = PostgreSQL::Test::Cluster->new('second_standby');
$second->init_from_backup($standby, 'after_failover', has_streaming => 1);
$second->start;
$password{'ha-4'} = $standby->safe_psql('meta', "SELECT password FROM claudable_provision('ha-4', 'owner-ha')");
my $rotated = $standby->safe_psql('meta', 'SELECT claudable_rotate_key()');
like($rotated, qr/^[0-9a-f]{32}$/, 'the key is rotated on the promoted server');
$standby->wait_for_catchup($second);
is($second->safe_psql('meta', "SELECT fingerprint FROM claudable.key_ring WHERE state = 'active'"), $rotated,
	'the standby follows the rotation');

$standby->stop('immediate');
$second->promote;
$second->poll_query_until('meta', 'SELECT NOT pg_is_in_recovery()') or die 'promotion timed out';
ok(password_on($second, $_) eq $password{$_}, "after the second failover $_ returns the same password")
  for sort keys %password;
is($second->safe_psql('meta', 'SELECT count(*) FROM claudable_check() WHERE object = \'key\' OR problem LIKE \'%decrypt%\''),
	'0', 'claudable_check() finds every stored password readable');
is($second->safe_psql('meta', "SELECT created FROM claudable_provision('ha-5', 'owner-ha')"), 't',
	'and the server provisions new projects under the rotated key');

$second->stop;
done_testing();
