#!/bin/bash
# devcloud: a small, real OpenStack (Zed, Debian 12 packages) on 127.0.0.1,
# for cloudfs development and end-to-end tests.  See README.md.
#
#   sudo bash contrib/devcloud/up.sh       # install, configure, start, provision
#
# Idempotent: skips what is done and (re)starts only what is not running.
# All state lives under $DEVCLOUD_STATE (default /var/tmp/cloudfs-devcloud).
set -Eeuo pipefail

DEVCLOUD_SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$DEVCLOUD_SELF")
# shellcheck source=lib.sh
. "$HERE/lib.sh"
devcloud_clean_env "$@"

S=${DEVCLOUD_STATE:-/var/tmp/cloudfs-devcloud}
case $S in /*) ;; *) die "DEVCLOUD_STATE must be an absolute path" ;; esac
RT_PATCH=${DEVCLOUD_NOVA_RT_PATCH:-1}
TOKEN_EXPIRATION=${DEVCLOUD_TOKEN_EXPIRATION:-120}
# Swift's largest single object (10 MiB): larger files are large objects
SWIFT_MAX_FILE_SIZE=${DEVCLOUD_SWIFT_MAX_FILE_SIZE:-10485760}
PY=/usr/bin/python3
H=127.0.0.1
SVCPW=devcloud-service
export HOME=$S/home XDG_CACHE_HOME=$S/home/.cache
export DEVCLOUD_STATE_DIR=$S
trap 'die "up.sh failed at line $LINENO: $BASH_COMMAND"' ERR

[ "$(id -u)" = 0 ] || die "must run as root"

PKGS=(mariadb-server rabbitmq-server memcached uwsgi-core uwsgi-plugin-python3
    qemu-utils curl python3-openstackclient python3-pymysql
    python3-keystone python3-glance glance-common python3-placement
    placement-common python3-nova nova-common python3-neutron neutron-common
    python3-cinder cinder-common python3-heat heat-common python3-heatclient
    python3-swift swift python3-swiftclient)

# ---------------------------------------------------------------- packages
install_packages() {
    local p st missing=()
    for p in "${PKGS[@]}"; do
        st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$st" = installed ] || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    log "installing ${#missing[@]} packages (with dependencies): ${missing[*]}"
    local made_policy=0 rc=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # no daemon may start during the install (invoke-rc.d honours this)
        printf '#!/bin/sh\n# devcloud up.sh: no daemon starts during apt\nexit 101\n' \
            >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    else
        log "note: /usr/sbin/policy-rc.d already exists, leaving it alone"
    fi
    {
        apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends -o Dpkg::Options::=--force-confold \
                "${missing[@]}"
    } >>"$S/log/apt.log" 2>&1 || rc=$?
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    if [ $rc != 0 ]; then
        tail -n 25 "$S/log/apt.log" >&2
        die "apt-get failed (rc $rc), see $S/log/apt.log"
    fi
    log "packages installed"
}

# ---------------------------------------------------------------- helpers
dburl() { printf 'mysql+pymysql://devcloud:devcloud@localhost/%s?unix_socket=%s/run/mysql.sock&charset=utf8\n' "$1" "$S"; }

show_logs() {
    local n=$1 f
    for f in "$S/log/$n.log" "$S/log/$n.out"; do
        [ -s "$f" ] || continue
        printf -- '----- last lines of %s -----\n' "$f" >&2
        tail -n 30 "$f" >&2
    done
}
fail_svc() { show_logs "$1"; die "$1: $2"; }

port_busy() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# start NAME PORT CMD...  (PORT "-" if none). Skips a running NAME.
start() {
    local name=$1 port=$2 pf i
    shift 2
    if is_running "$name"; then
        return 0
    fi
    if [ "$port" != - ] && port_busy "$port"; then
        ss -Hltnp "sport = :$port" >&2 || true
        die "$name: port 127.0.0.1:$port is already taken by a process devcloud did not start"
    fi
    pf=$(pidfile "$name")
    rm -f "$pf"
    log "starting $name"
    STARTED+=("$name")
    # The child records its own PID and start time, then execs the daemon.
    # setsid makes it the leader of a new session and process group.
    setsid /bin/bash -c '
        pf=$1; shift
        read -r st </proc/$$/stat; st=${st##*) }; set -f; f=($st); set +f
        echo "$$ ${f[19]}" >"$pf.tmp" && mv "$pf.tmp" "$pf"
        exec "$@"' devcloud-start "$pf" "$@" \
        >>"$S/log/$name.out" 2>&1 </dev/null 9>&- &
    for i in $(seq 50); do
        [ -s "$pf" ] && return 0
        sleep 0.1
    done
    fail_svc "$name" "did not start"
}

# wait_http NAME URL TIMEOUT: any HTTP answer counts
wait_http() {
    local name=$1 url=$2 t=$3 end code
    end=$((SECONDS + t))
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
        [ "$code" != 000 ] && [ -n "$code" ] && return 0
        is_running "$name" || fail_svc "$name" "exited during startup (see $S/log/$name.*)"
        [ $SECONDS -ge $end ] && fail_svc "$name" "no answer on $url after ${t}s"
        sleep 0.5
    done
}

wait_port() {
    local name=$1 port=$2 t=$3 end
    end=$((SECONDS + t))
    until (exec 3<>"/dev/tcp/$H/$port") 2>/dev/null; do
        is_running "$name" || fail_svc "$name" "exited during startup"
        [ $SECONDS -ge $end ] && fail_svc "$name" "port $port not open after ${t}s"
        sleep 0.3
    done
}

sql() { mariadb --no-defaults -S "$S/run/mysql.sock" -uroot -N -B "$@"; }

# run a one-shot step (db sync etc.) once per package version, in background
#   step NAME VERSIONPKG CMD...
step_bg() {
    local name=$1 pkg=$2 ver
    shift 2
    ver=$(dpkg-query -W -f='${Version}' "$pkg")
    if [ "$(cat "$S/markers/$name" 2>/dev/null)" = "$ver" ]; then
        return 0
    fi
    log "running $name"
    (
        trap - ERR
        "$@" >>"$S/log/$name.log" 2>&1 || exit 1
        echo "$ver" >"$S/markers/$name"
    ) &
    STEP_PIDS+=("$!:$name")
}
# wait_steps [NAME...]: wait for the named background steps (default: all)
wait_steps() {
    local e rc=0 pid name keep=()
    for e in ${STEP_PIDS[@]+"${STEP_PIDS[@]}"}; do
        pid=${e%%:*} name=${e#*:}
        if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
            keep+=("$e")
            continue
        fi
        if ! wait "$pid"; then
            printf -- '----- last lines of %s -----\n' "$S/log/$name.log" >&2
            tail -n 30 "$S/log/$name.log" >&2
            log "ERROR: $name failed"
            rc=1
        fi
    done
    STEP_PIDS=(${keep[@]+"${keep[@]}"})
    if [ $rc != 0 ]; then
        for e in ${STEP_PIDS[@]+"${STEP_PIDS[@]}"}; do wait "${e%%:*}" || true; done
        die "one-shot setup step(s) failed, see above"
    fi
}
STEP_PIDS=()
STARTED=()
# whole seconds, minus one: service heartbeats are stored without fractions
export DEVCLOUD_SINCE=$(($(date -u +%s) - 1))

# ---------------------------------------------------------------- configs
authtoken() { # [keystone_authtoken] for service user $1
    cat <<EOF
[keystone_authtoken]
www_authenticate_uri = http://$H:5000
memcached_servers = $H:11211
service_token_roles = service
service_token_roles_required = true
$(svcauth "$1")
EOF
}
svcauth() { # credentials block for service-to-service sections
    cat <<EOF
auth_url = http://$H:5000
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = service
username = $1
password = $SVCPW
region_name = RegionOne
EOF
}
policy() {
    mkdir -p "$S/etc/$1/policy.d"
    cat <<EOF
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
policy_file = $S/etc/$1/policy.yaml
policy_dirs = $S/etc/$1/policy.d
EOF
}
TRANSPORT="rabbit://guest:guest@$H:5672/"

write_configs() {
    local d
    for d in etc/keystone etc/glance etc/placement etc/nova etc/neutron/plugins/ml2 \
        etc/cinder glance/images glance/staging glance/tasks glance/cache nova/instances \
        neutron cinder/volumes lock/keystone lock/glance lock/nova lock/neutron lock/cinder \
        etc/heat lock/heat etc/swift swift/node/d1 swift/cache \
        rabbitmq images pylib bin tmp; do
        mkdir -p "$S/$d"
    done

    cat >"$S/etc/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $S/log/keystone.log
[database]
connection = $(dburl keystone)
[token]
provider = fernet
# Short-lived tokens let the end-to-end tests see cloudfs renew its token.
expiration = $TOKEN_EXPIRATION
[fernet_tokens]
key_repository = $S/keystone/fernet-keys
[fernet_receipts]
key_repository = $S/keystone/fernet-keys
[credential]
key_repository = $S/keystone/credential-keys
[cache]
enabled = true
backend = oslo_cache.memcache_pool
memcache_servers = $H:11211
[identity]
password_hash_rounds = 4
$(policy keystone)
EOF

    cat >"$S/etc/glance/glance-api.conf" <<EOF
[DEFAULT]
bind_host = $H
bind_port = 9292
workers = 1
enabled_backends = file:file
image_cache_dir = $S/glance/cache
[database]
connection = $(dburl glance)
[glance_store]
default_backend = file
[file]
filesystem_store_datadir = $S/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = $S/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = $S/glance/tasks/
$(authtoken glance)
[paste_deploy]
flavor = keystone
config_file = $S/etc/glance/glance-api-paste.ini
[oslo_messaging_notifications]
driver = noop
[oslo_concurrency]
lock_path = $S/lock/glance
$(policy glance)
EOF
    cp /usr/share/glance-common/glance-api-paste.ini "$S/etc/glance/"

    cat >"$S/etc/placement/placement.conf" <<EOF
[DEFAULT]
log_file = $S/log/placement.log
[placement_database]
connection = $(dburl placement)
[api]
auth_strategy = keystone
$(authtoken placement)
$(policy placement)
EOF

    cat >"$S/etc/nova/nova.conf" <<EOF
[DEFAULT]
host = devcloud
my_ip = $H
state_path = $S/nova
instances_path = $S/nova/instances
compute_driver = fake.FakeDriver
transport_url = $TRANSPORT
enabled_apis = osapi_compute
osapi_compute_listen = $H
osapi_compute_listen_port = 8774
osapi_compute_workers = 2
graceful_shutdown_timeout = 5
# no random 0-60 s delay before the first periodic tasks (host discovery)
periodic_fuzzy_delay = 0
allow_resize_to_same_host = true
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $S/etc/nova/api-paste.ini
[api_database]
connection = $(dburl nova_api)
[database]
connection = $(dburl nova)
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
$(authtoken nova)
[service_user]
send_service_user_token = true
$(svcauth nova)
[placement]
$(svcauth placement)
[neutron]
$(svcauth neutron)
service_metadata_proxy = false
[cinder]
$(svcauth cinder)
os_region_name = RegionOne
[glance]
region_name = RegionOne
[quota]
instances = -1
cores = -1
ram = -1
key_pairs = -1
server_groups = -1
server_group_members = -1
[vnc]
enabled = false
[serial_console]
enabled = false
[oslo_messaging_notifications]
driver = noop
[oslo_concurrency]
lock_path = $S/lock/nova
$(policy nova)
EOF
    cp /usr/share/nova-common/api-paste.ini "$S/etc/nova/api-paste.ini"

    cat >"$S/etc/neutron/neutron.conf" <<EOF
[DEFAULT]
bind_host = $H
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $TRANSPORT
api_workers = 1
rpc_workers = 1
state_path = $S/neutron
api_paste_config = $S/etc/neutron/api-paste.ini
allow_overlapping_ips = true
dhcp_agent_notification = false
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
graceful_shutdown_timeout = 5
[database]
connection = $(dburl neutron)
$(authtoken neutron)
[nova]
$(svcauth nova)
[quotas]
default_quota = -1
quota_network = -1
quota_subnet = -1
quota_port = -1
quota_router = -1
quota_floatingip = -1
quota_security_group = -1
quota_security_group_rule = -1
quota_rbac_policy = -1
[oslo_messaging_notifications]
driver = noop
[oslo_concurrency]
lock_path = $S/lock/neutron
$(policy neutron)
EOF
    cat >"$S/etc/neutron/plugins/ml2/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = devcloud_fake
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vxlan]
vni_ranges = 1:10000
EOF
    cp /usr/share/neutron-common/api-paste.ini "$S/etc/neutron/api-paste.ini"
    # The ML2 mechanism driver: with no L2 agent no stock driver binds a port.
    cat >"$S/pylib/devcloud_ml2.py" <<'EOF'
"""devcloud: bind every port on any host as vif_type=ovs, status ACTIVE."""
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class DevcloudMechanismDriver(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID], portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True,
                 portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE)
            return
EOF
    mkdir -p "$S/pylib/devcloud_ml2-1.0.dist-info"
    printf 'Metadata-Version: 2.1\nName: devcloud-ml2\nVersion: 1.0\n' \
        >"$S/pylib/devcloud_ml2-1.0.dist-info/METADATA"
    printf '[neutron.ml2.mechanism_drivers]\ndevcloud_fake = devcloud_ml2:DevcloudMechanismDriver\n' \
        >"$S/pylib/devcloud_ml2-1.0.dist-info/entry_points.txt"

    cat >"$S/etc/cinder/cinder.conf" <<EOF
[DEFAULT]
host = devcloud
my_ip = $H
state_path = $S/cinder
volumes_dir = $S/cinder/volumes
transport_url = $TRANSPORT
auth_strategy = keystone
osapi_volume_listen = $H
osapi_volume_listen_port = 8776
osapi_volume_workers = 1
api_paste_config = $S/etc/cinder/api-paste.ini
enabled_backends = fake
graceful_shutdown_timeout = 5
use_default_quota_class = false
quota_volumes = -1
quota_snapshots = -1
quota_gigabytes = -1
quota_backups = -1
quota_backup_gigabytes = -1
quota_groups = -1
per_volume_size_limit = -1
[fake]
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
[database]
connection = $(dburl cinder)
$(authtoken cinder)
[nova]
$(svcauth nova)
[oslo_messaging_notifications]
driver = noop
[oslo_concurrency]
lock_path = $S/lock/cinder
$(policy cinder)
EOF
    cp /usr/share/cinder-common/api-paste.ini "$S/etc/cinder/api-paste.ini"

    cat >"$S/etc/heat/heat.conf" <<EOF
[DEFAULT]
host = devcloud
transport_url = $TRANSPORT
num_engine_workers = 1
graceful_shutdown_timeout = 5
region_name_for_services = RegionOne
# users that stacks create (OS::Heat::WaitCondition etc.) live in domain heat
stack_user_domain_name = heat
stack_domain_admin = heat_domain_admin
stack_domain_admin_password = $SVCPW
# the CloudFormation API (8000) is not run; only software-config/wait
# conditions would call it, OS::Nova::Server does not
heat_metadata_server_url = http://$H:8000
heat_waitcondition_server_url = http://$H:8000/v1/waitcondition
[heat_api]
bind_host = $H
bind_port = 8004
workers = 1
[database]
connection = $(dburl heat)
$(authtoken heat)
# Zed default deferred_auth_method = trusts: heat-engine acts for the stack
# owner through a trust to the heat user.  No project here: a trust-scoped
# password auth cannot also carry a project scope.
[trustee]
auth_type = password
auth_url = http://$H:5000
username = heat
password = $SVCPW
user_domain_name = Default
[clients_keystone]
auth_uri = http://$H:5000
[paste_deploy]
api_paste_config = $S/etc/heat/api-paste.ini
[oslo_messaging_notifications]
driver = noop
[oslo_concurrency]
lock_path = $S/lock/heat
$(policy heat)
EOF
    cp /etc/heat/api-paste.ini "$S/etc/heat/api-paste.ini"

    # Swift: one replica on one device, partition power 10.  The hash
    # prefix/suffix must never change once objects exist.
    if [ ! -s "$S/etc/swift/swift.conf" ]; then
        cat >"$S/etc/swift/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
swift_hash_path_suffix = $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
[storage-policy:0]
name = Policy-0
default = yes
EOF
    fi
    # [swift-constraints] is kept last and rewritten when it differs (a
    # swift.conf of an earlier devcloud has none): a small max_file_size,
    # so a 30 MiB copy through cloudfs is a large object (issue 15). The
    # proxy reads it at start; a running one is restarted below.
    if ! grep -qx "max_file_size = $SWIFT_MAX_FILE_SIZE" "$S/etc/swift/swift.conf"; then
        sed -i '/^\[swift-constraints\]/,$d' "$S/etc/swift/swift.conf"
        printf '[swift-constraints]\nmax_file_size = %s\n' "$SWIFT_MAX_FILE_SIZE" \
            >>"$S/etc/swift/swift.conf"
    fi
    local kind port
    for kind in account:6202 container:6201 object:6200; do
        port=${kind#*:} kind=${kind%%:*}
        cat >"$S/etc/swift/$kind-server.conf" <<EOF
[DEFAULT]
bind_ip = $H
bind_port = $port
# workers = 0: one process, no fork
workers = 0
user = root
swift_dir = $S/etc/swift
devices = $S/swift/node
mount_check = false
recon_cache_path = $S/swift/cache
log_level = INFO
[pipeline:main]
pipeline = healthcheck $kind-server
[filter:healthcheck]
use = egg:swift#healthcheck
[app:$kind-server]
use = egg:swift#$kind
EOF
        # the updaters push object counts and bytes up: container -> account
        # (the account's stats, every 5 s) and object -> container (only the
        # updates that failed synchronously, kept as async pendings; 15 s)
        [ "$kind" = account ] || cat >>"$S/etc/swift/$kind-server.conf" <<EOF
[$kind-updater]
interval = $([ "$kind" = container ] && echo 5 || echo 15)
concurrency = 1
EOF
    done
    cat >"$S/etc/swift/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = $H
bind_port = 8080
workers = 0
user = root
swift_dir = $S/etc/swift
log_level = INFO
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl formpost authtoken keystoneauth staticweb copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
# a loaded 2-core machine: do not give up on the storage servers too early
conn_timeout = 2
node_timeout = 30
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
# tempurl, formpost and staticweb requests carry no token
delay_auth_decision = true
www_authenticate_uri = http://$H:5000
memcached_servers = $H:11211
service_token_roles = service
service_token_roles_required = true
$(svcauth swift)
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_admin_role = ResellerAdmin
[filter:cache]
use = egg:swift#memcache
memcache_servers = $H:11211
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:formpost]
use = egg:swift#formpost
[filter:staticweb]
use = egg:swift#staticweb
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
allow_object_versioning = true
[filter:symlink]
use = egg:swift#symlink
EOF

    # launchers for daemons without a /usr/bin entry point
    local spec
    for spec in nova-api:nova.cmd.api nova-conductor:nova.cmd.conductor \
        nova-scheduler:nova.cmd.scheduler glance-api:glance.cmd.api \
        cinder-api:cinder.cmd.api cinder-scheduler:cinder.cmd.scheduler \
        cinder-volume:cinder.cmd.volume heat-api:heat.cmd.api \
        heat-engine:heat.cmd.engine; do
        printf '#!/usr/bin/python3\nimport sys\nfrom %s import main\nsys.exit(main())\n' \
            "${spec#*:}" >"$S/bin/${spec%%:*}"
    done
    # swift: servers and updaters; swift.conf from the state dir, not /etc
    for spec in proxy-server account-server container-server object-server; do
        cat >"$S/bin/swift-$spec" <<EOF
#!/usr/bin/python3
import sys
import swift.common.utils as utils
utils.SWIFT_CONF_FILE = "$S/etc/swift/swift.conf"
from swift.common.wsgi import run_wsgi
EOF
        if [ $spec = object-server ]; then
            cat >>"$S/bin/swift-$spec" <<EOF
from swift.obj import server
conf_file, options = utils.parse_options()
sys.exit(run_wsgi(conf_file, "$spec", global_conf_callback=server.global_conf_callback, **options))
EOF
        else
            cat >>"$S/bin/swift-$spec" <<EOF
conf_file, options = utils.parse_options()
sys.exit(run_wsgi(conf_file, "$spec", **options))
EOF
        fi
    done
    for spec in container-updater:swift.container.updater:ContainerUpdater \
        object-updater:swift.obj.updater:ObjectUpdater; do
        local f=$S/bin/swift-${spec%%:*} mod cls
        mod=${spec#*:} cls=${mod#*:} mod=${mod%%:*}
        cat >"$f" <<EOF
#!/usr/bin/python3
import swift.common.utils as utils
utils.SWIFT_CONF_FILE = "$S/etc/swift/swift.conf"
from swift.common.daemon import run_daemon
from $mod import $cls
conf_file, options = utils.parse_options(once=True)
run_daemon($cls, conf_file, **options)
EOF
    done
    cat >"$S/bin/nova-compute" <<EOF
#!/usr/bin/python3
import sys
from nova.cmd.compute import main  # first: this import monkey-patches eventlet
if "$RT_PATCH" != "0":
    # DEVCLOUD_NOVA_RT_PATCH: Zed's resource tracker fetches the allocations of
    # every instance on the host on each claim/update (O(N^2) placement
    # traffic). The result only matters for a provider reshape, which the fake
    # driver never does.
    from nova.scheduler.client import report
    report.SchedulerReportClient.get_allocations_for_provider_tree = (
        lambda self, context, nodename: {})
sys.exit(main())
EOF

    # RabbitMQ, entirely from the state dir
    cat >"$S/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = $H:5672
loopback_users.guest = true
disk_free_limit.absolute = 50MB
EOF
    echo '[].' >"$S/rabbitmq/enabled_plugins"
    : >"$S/rabbitmq/rabbitmq-env.conf"
    cat >"$S/rabbitmq/env.sh" <<EOF
export HOME=$S/rabbitmq
export RABBITMQ_NODENAME=devcloud@localhost
export RABBITMQ_NODE_IP_ADDRESS=$H
export RABBITMQ_DIST_PORT=25672
export RABBITMQ_CONF_ENV_FILE=$S/rabbitmq/rabbitmq-env.conf
export RABBITMQ_CONFIG_FILE=$S/rabbitmq/rabbitmq.conf
export RABBITMQ_ADVANCED_CONFIG_FILE=$S/rabbitmq/advanced.config
export RABBITMQ_ENABLED_PLUGINS_FILE=$S/rabbitmq/enabled_plugins
export RABBITMQ_MNESIA_BASE=$S/rabbitmq/mnesia
export RABBITMQ_LOG_BASE=$S/log
export RABBITMQ_LOGS=$S/log/rabbitmq.log
export RABBITMQ_PID_FILE=$S/run/rabbitmq.pidfile
export ERL_EPMD_ADDRESS=$H
export ERL_EPMD_PORT=4369
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
    cat >"$S/bin/rabbitmq-server" <<EOF
#!/bin/sh
. $S/rabbitmq/env.sh
exec /usr/lib/rabbitmq/bin/rabbitmq-server
EOF
    chmod 755 "$S/bin/"*
}

write_client_files() {
    local who pw proj f
    for who in admin demo; do
        f=$S/openrc
        [ $who = demo ] && f=$S/openrc.demo
        cat >"$f" <<EOF
# devcloud credentials ($who); source this file
unset OS_CLOUD OS_TOKEN OS_AUTH_TYPE
export OS_AUTH_URL=http://$H:5000/v3
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=$who
export OS_PASSWORD=$who
export OS_PROJECT_NAME=$who
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
export OS_VOLUME_API_VERSION=3
EOF
    done
    {
        echo "# devcloud: OS_CLIENT_CONFIG_FILE=$S/clouds.yaml OS_CLOUD=devcloud (demo) or devcloud-admin"
        echo "clouds:"
        for who in demo admin; do
            if [ $who = demo ]; then echo "  devcloud:"; else echo "  devcloud-admin:"; fi
            cat <<EOF
    auth:
      auth_url: http://$H:5000/v3
      username: $who
      password: $who
      project_name: $who
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
    volume_api_version: 3
EOF
        done
    } >"$S/clouds.yaml"
}

# ---------------------------------------------------------------- main
mkdir -p "$S"/{log,run/pids,markers,home}
exec 9>"$S/run/up.lock"
if ! flock -n 9; then
    log "another up.sh (or its setup steps) holds $S/run/up.lock; waiting up to 10 min"
    flock -w 600 9 || die "another up.sh is still running on $S"
fi
log "state dir $S"

install_packages
ks_conf_before=$(cat "$S/etc/keystone/keystone.conf" 2>/dev/null || true)
write_configs
# A running keystone only reads its config at start: restart it on a change.
if [ "$ks_conf_before" != "$(cat "$S/etc/keystone/keystone.conf")" ] && is_running keystone; then
    read -r ks_pid _ < <(read_pidfile keystone)
    log "keystone.conf changed: restarting keystone"
    kill -TERM -- "-$ks_pid" 2>/dev/null || true
    for _ in $(seq 100); do is_running keystone || break; sleep 0.2; done
    is_running keystone && kill -KILL -- "-$ks_pid" 2>/dev/null
    sleep 0.5
fi

# MariaDB: socket only
if [ ! -e "$S/markers/mysql-init" ]; then
    rm -rf "$S/mysql"
    log "initialising MariaDB datadir"
    mariadb-install-db --no-defaults --datadir="$S/mysql" --user=root \
        --auth-root-authentication-method=socket --skip-test-db \
        >>"$S/log/mysql-init.log" 2>&1 || { tail -n 20 "$S/log/mysql-init.log" >&2; die "mariadb-install-db failed"; }
    touch "$S/markers/mysql-init"
fi
start mysql - /usr/sbin/mariadbd --no-defaults --user=root --basedir=/usr \
    --datadir="$S/mysql" --socket="$S/run/mysql.sock" --pid-file="$S/run/mysql.pidfile" \
    --skip-networking --log-error="$S/log/mysql.log" --tmpdir="$S/tmp" \
    --character-set-server=utf8 --collation-server=utf8_general_ci \
    --max-connections=1000 --innodb-buffer-pool-size=128M \
    --innodb-flush-log-at-trx-commit=0 --performance-schema=OFF

# our own epmd, so that rabbit does not spawn a daemonized one we do not own
EPMD=$(command -v epmd || ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n1)
if ! is_running epmd && port_busy 4369; then
    log "note: an epmd not started by devcloud already listens on 4369; using it"
else
    start epmd 4369 "$EPMD" -address $H -port 4369
    wait_port epmd 4369 10
fi
start memcached 11211 /usr/bin/memcached -l $H -p 11211 -U 0 -m 64 -c 1024 \
    -u "$(id -u memcache >/dev/null 2>&1 && echo memcache || echo nobody)"
start rabbitmq 5672 "$S/bin/rabbitmq-server"

end=$((SECONDS + 30))
until sql -e 'select 1' >/dev/null 2>&1; do
    is_running mysql || fail_svc mysql "exited during startup"
    [ $SECONDS -ge $end ] && fail_svc mysql "not answering on $S/run/mysql.sock after 30s"
    sleep 0.2
done
sql <<'EOF'
CREATE DATABASE IF NOT EXISTS keystone;
CREATE DATABASE IF NOT EXISTS glance;
CREATE DATABASE IF NOT EXISTS placement;
CREATE DATABASE IF NOT EXISTS nova_api;
CREATE DATABASE IF NOT EXISTS nova;
CREATE DATABASE IF NOT EXISTS nova_cell0;
CREATE DATABASE IF NOT EXISTS neutron;
CREATE DATABASE IF NOT EXISTS cinder;
CREATE DATABASE IF NOT EXISTS heat;
CREATE USER IF NOT EXISTS 'devcloud'@'localhost' IDENTIFIED BY 'devcloud';
GRANT ALL PRIVILEGES ON *.* TO 'devcloud'@'localhost';
EOF

# one-shot steps (DB schemas etc.), in parallel; each once per package version
KC=(--config-file "$S/etc/keystone/keystone.conf")
keystone_setup() {
    if [ ! -d "$S/keystone/fernet-keys" ]; then
        keystone-manage "${KC[@]}" fernet_setup --keystone-user root --keystone-group root || return 1
    fi
    if [ ! -d "$S/keystone/credential-keys" ]; then
        keystone-manage "${KC[@]}" credential_setup --keystone-user root --keystone-group root || return 1
    fi
    keystone-manage "${KC[@]}" db_sync || return 1
    keystone-manage "${KC[@]}" bootstrap --bootstrap-password admin \
        --bootstrap-username admin --bootstrap-project-name admin \
        --bootstrap-role-name admin --bootstrap-service-name keystone \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "http://$H:5000/v3" \
        --bootstrap-internal-url "http://$H:5000/v3" \
        --bootstrap-public-url "http://$H:5000/v3" || return 1
}
NC=(--config-file "$S/etc/nova/nova.conf")
nova_setup() {
    nova-manage "${NC[@]}" api_db sync || return 1
    nova-manage "${NC[@]}" cell_v2 map_cell0 --database_connection "$(dburl nova_cell0)" || return 1
    if ! nova-manage "${NC[@]}" cell_v2 list_cells | grep -qw cell1; then
        nova-manage "${NC[@]}" cell_v2 create_cell --name cell1 || return 1
    fi
    nova-manage "${NC[@]}" db sync || return 1
}
mkdir -p "$S/keystone"
step_bg keystone-setup python3-keystone keystone_setup
step_bg glance-dbsync python3-glance glance-manage --config-file "$S/etc/glance/glance-api.conf" db_sync
step_bg placement-dbsync python3-placement placement-manage --config-file "$S/etc/placement/placement.conf" db sync
step_bg nova-setup python3-nova nova_setup
step_bg neutron-dbsync python3-neutron neutron-db-manage --config-file "$S/etc/neutron/neutron.conf" \
    --config-file "$S/etc/neutron/plugins/ml2/ml2_conf.ini" upgrade heads
step_bg cinder-dbsync python3-cinder cinder-manage --config-file "$S/etc/cinder/cinder.conf" db sync
step_bg heat-dbsync python3-heat heat-manage --config-file "$S/etc/heat/heat.conf" db_sync

# swift rings: one device d1 per ring, 2^10 partitions, 1 replica
SW=$S/etc/swift
for kind in account:6202 container:6201 object:6200; do
    port=${kind#*:} kind=${kind%%:*}
    [ -s "$SW/$kind.ring.gz" ] && continue
    log "building the swift $kind ring"
    rm -f "$SW/$kind.builder"
    {
        swift-ring-builder "$SW/$kind.builder" create 10 1 1 &&
            swift-ring-builder "$SW/$kind.builder" add "r1z1-$H:$port/d1" 1 &&
            { swift-ring-builder "$SW/$kind.builder" rebalance || [ $? = 1 ]; }
    } >>"$S/log/swift-rings.log" 2>&1 || true
    [ -s "$SW/$kind.ring.gz" ] || { tail -n 20 "$S/log/swift-rings.log" >&2; die "swift-ring-builder failed for $kind"; }
done
# the storage servers need no keystone
for kind in account:6202 container:6201 object:6200; do
    start swift-${kind%%:*} ${kind#*:} $PY "$S/bin/swift-${kind%%:*}-server" \
        "$SW/${kind%%:*}-server.conf" --verbose
done
for kind in container object; do
    start swift-$kind-updater - $PY "$S/bin/swift-$kind-updater" \
        "$SW/$kind-server.conf" --verbose
done

UWSGI=(/usr/bin/uwsgi-core --plugin python3 --master --die-on-term --need-app
    --lazy-apps --processes 2 --threads 2 --buffer-size 65535 --disable-logging
    --add-header 'Connection: close')
wait_steps keystone-setup
start keystone 5000 env OS_KEYSTONE_CONFIG_DIR="$S/etc/keystone" "${UWSGI[@]}" \
    --http-socket $H:5000 --wsgi-file /usr/bin/keystone-wsgi-public
wait_steps placement-dbsync
start placement 8778 env OS_PLACEMENT_CONFIG_DIR="$S/etc/placement" "${UWSGI[@]}" \
    --http-socket $H:8778 --wsgi-file /usr/bin/placement-api
wait_steps glance-dbsync
start glance-api 9292 $PY "$S/bin/glance-api" --config-file "$S/etc/glance/glance-api.conf" \
    --log-file "$S/log/glance-api.log"

wait_http keystone "http://$H:5000/v3" 60
# everything below authenticates against keystone at startup
$PY "$HERE/provision.py" identity || die "identity provisioning failed"
wait_steps

wait_port rabbitmq 5672 60
for svc in nova-conductor nova-scheduler; do
    start $svc - $PY "$S/bin/$svc" "${NC[@]}" --log-file "$S/log/$svc.log"
done
CC=(--config-file "$S/etc/cinder/cinder.conf")
start cinder-scheduler - $PY "$S/bin/cinder-scheduler" "${CC[@]}" --log-file "$S/log/cinder-scheduler.log"
start neutron-server 9696 env PYTHONPATH="$S/pylib" $PY /usr/bin/neutron-server \
    --config-file "$S/etc/neutron/neutron.conf" \
    --config-file "$S/etc/neutron/plugins/ml2/ml2_conf.ini" \
    --log-file "$S/log/neutron-server.log"
start nova-api 8774 $PY "$S/bin/nova-api" "${NC[@]}" --log-file "$S/log/nova-api.log"
HC=(--config-file "$S/etc/heat/heat.conf")
start heat-api 8004 $PY "$S/bin/heat-api" "${HC[@]}" --log-file "$S/log/heat-api.log"
start heat-engine - $PY "$S/bin/heat-engine" "${HC[@]}" --log-file "$S/log/heat-engine.log"
# A running proxy started with other [swift-constraints] (an older
# devcloud's) is restarted, alone: the storage servers and every other
# service keep running, and the proxy answers again within seconds.
if is_running swift-proxy; then
    sw_max=$(curl -s --max-time 10 "http://$H:8080/info" | $PY -c \
        'import json, sys; print(json.load(sys.stdin)["swift"]["max_file_size"])' 2>/dev/null) || sw_max=
    if [ -n "$sw_max" ] && [ "$sw_max" != "$SWIFT_MAX_FILE_SIZE" ]; then
        log "restarting swift-proxy (max_file_size $sw_max -> $SWIFT_MAX_FILE_SIZE)"
        read -r sw_pid _ <<<"$(read_pidfile swift-proxy)"
        kill -TERM -- "-$sw_pid" 2>/dev/null || kill -TERM "$sw_pid" 2>/dev/null || true
        for i in $(seq 100); do
            is_running swift-proxy || port_busy 8080 || break
            [ "$i" = 50 ] && { kill -KILL -- "-$sw_pid" 2>/dev/null || kill -KILL "$sw_pid" 2>/dev/null || true; }
            sleep 0.1
        done
    fi
fi
start swift-proxy 8080 $PY "$S/bin/swift-proxy-server" "$SW/proxy-server.conf" --verbose
start cinder-api 8776 $PY "$S/bin/cinder-api" "${CC[@]}" --log-file "$S/log/cinder-api.log"
start cinder-volume - $PY "$S/bin/cinder-volume" "${CC[@]}" --log-file "$S/log/cinder-volume.log"
wait_http placement "http://$H:8778/" 60
start nova-compute - $PY "$S/bin/nova-compute" "${NC[@]}" --log-file "$S/log/nova-compute.log"

wait_http glance-api "http://$H:9292/" 60
wait_http neutron-server "http://$H:9696/" 90
wait_http nova-api "http://$H:8774/" 90
wait_http cinder-api "http://$H:8776/" 90
wait_http heat-api "http://$H:8004/" 90
wait_http swift-proxy "http://$H:8080/healthcheck" 60
for kind in account:6202 container:6201 object:6200; do
    wait_http swift-${kind%%:*} "http://$H:${kind#*:}/healthcheck" 30
done
for svc in nova-conductor nova-scheduler nova-compute cinder-scheduler cinder-volume \
    heat-engine swift-container-updater swift-object-updater; do
    is_running $svc || fail_svc $svc "is not running"
done

# the public test image: 64 MiB virtual, ~2 MiB of data
IMG=$S/images/devcloud-tiny.qcow2
if [ ! -s "$IMG" ]; then
    rm -f "$IMG.tmp"
    qemu-img create -q -f qcow2 "$IMG.tmp" 64M
    qemu-io -f qcow2 -c 'write -q -P 0xcd 0 2M' "$IMG.tmp" >/dev/null
    mv "$IMG.tmp" "$IMG"
fi

log "provisioning flavors, image, network; waiting for compute and volume services"
export DEVCLOUD_RESTARTED="${STARTED[*]-}"
$PY "$HERE/provision.py" resources || {
    show_logs nova-compute
    die "resource provisioning failed"
}

# the compute host must be mapped to cell1; the scheduler discovers it every
# 2 s, nova-manage is the fallback
end=$((SECONDS + 15))
mapped() { [ "$(sql -e "SELECT COUNT(*) FROM nova_api.host_mappings WHERE host='devcloud'")" -ge 1 ] 2>/dev/null; }
until mapped; do
    if [ $SECONDS -ge $end ]; then
        log "running nova-manage cell_v2 discover_hosts"
        nova-manage "${NC[@]}" cell_v2 discover_hosts >>"$S/log/nova-discover.log" 2>&1 ||
            { tail -n 20 "$S/log/nova-discover.log" >&2; die "nova-manage cell_v2 discover_hosts failed"; }
        mapped || die "compute host devcloud is not mapped to a cell after discover_hosts"
        break
    fi
    sleep 0.5
done

write_client_files
log "devcloud is up: . $S/openrc (admin) | . $S/openrc.demo (demo) | OS_CLIENT_CONFIG_FILE=$S/clouds.yaml OS_CLOUD=devcloud"
