#!/usr/bin/env bash
# Start a single-node SLURM on this machine (slurmctld + slurmd + munge, with slurmdbd and a
# private MariaDB so that sacct works), from Debian's packages; every file under STATE.
# Usage: cluster/slurm/up.sh STATE_DIR; stop it with cluster/slurm/down.sh STATE_DIR.
# Needs root (daemons, apt-get). The configuration goes where SLURM's commands look for it,
# /etc/slurm (the executor plugin's job steps drop SLURM_CONF), marked as ours: a machine
# with its own /etc/slurm/slurm.conf is refused, never overwritten.
set -euo pipefail
STATE=$(realpath -m "${1:?usage: up.sh STATE_DIR}")
HERE=$(dirname "$(realpath "$0")")
PORT_DB=${LEARNSCOPE_SLURM_DB_PORT:-3317}

need=()
for cmd in slurmctld slurmd slurmdbd munged sacct mariadbd; do command -v "$cmd" >/dev/null || need+=("$cmd"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "slurm: installing Debian's slurmctld slurmd slurmdbd slurm-client munge mariadb-server (missing: ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q slurmctld slurmd slurmdbd slurm-client munge mariadb-server >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q slurmctld slurmd slurmdbd slurm-client munge mariadb-server >/dev/null; }
fi

CONF=/etc/slurm
MARK="# learnscope test cluster"
if [ -f "$CONF/slurm.conf" ] && ! grep -qx "$MARK" "$CONF/slurm.conf"; then
  echo "slurm: $CONF/slurm.conf exists and is not learnscope's test cluster; not touching it" >&2
  exit 1
fi
running=$(pgrep -r D,R,S '^(slurmctld|slurmd|slurmdbd)$' 2>/dev/null | tr '\n' ' ' || true)
if [ -n "$running" ]; then
  echo "slurm: SLURM daemons already run here (pid $running); stop them first (cluster/slurm/down.sh STATE_DIR)" >&2
  exit 1
fi
mkdir -p "$STATE"/{ctld,spool,mysql,log,run} "$CONF"
HOST=$(hostname -s)
# This machine's CPUs and memory as slurmd sees them (a node that claims more is drained).
read -r CPUS MEM < <(slurmd -C | awk '/^NodeName/{for(i=1;i<=NF;i++){split($i,kv,"="); v[kv[1]]=kv[2]} print v["CPUs"], v["RealMemory"]}')
sed -e "s|@STATE@|$STATE|g" -e "s|@HOST@|$HOST|g" -e "s|@CPUS@|$CPUS|g" -e "s|@MEM@|$((MEM * 9 / 10))|g" \
    "$HERE/slurm.conf.in" | { echo "$MARK"; cat; } > "$CONF/slurm.conf"
sed -e "s|@STATE@|$STATE|g" -e "s|@PORT_DB@|$PORT_DB|g" "$HERE/slurmdbd.conf.in" | { echo "$MARK"; cat; } > "$CONF/slurmdbd.conf"
chmod 600 "$CONF/slurmdbd.conf"

# munge: the key Debian's package made, one daemon for the machine.
if ! pgrep -x munged >/dev/null; then
  install -d -o munge -g munge /run/munge
  runuser -u munge -- /usr/sbin/munged
fi

# MariaDB for slurmdbd, private to STATE, on 127.0.0.1:PORT_DB.
if [ ! -d "$STATE/mysql/mysql" ]; then
  mariadb-install-db --user=root --datadir="$STATE/mysql" --auth-root-authentication-method=socket >"$STATE/log/mysql-install.log" 2>&1
fi
mariadbd --user=root --datadir="$STATE/mysql" --socket="$STATE/run/mysql.sock" --bind-address=127.0.0.1 \
  --port="$PORT_DB" --pid-file="$STATE/run/mysql.pid" --log-error="$STATE/log/mysql.log" >>"$STATE/log/mysql.out" 2>&1 &
for _ in $(seq 60); do mariadb --socket="$STATE/run/mysql.sock" -u root -e "select 1" >/dev/null 2>&1 && break; sleep 0.5; done
mariadb --socket="$STATE/run/mysql.sock" -u root -e \
  "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'learnscope'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"

slurmdbd
for _ in $(seq 60); do sacctmgr -n show cluster >/dev/null 2>&1 && break; sleep 0.5; done
sacctmgr -i -Q add cluster learnscope >/dev/null 2>&1 || true
slurmctld
slurmd
for _ in $(seq 120); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1)
  [ "$state" = idle ] && break
  sleep 0.5
done
if [ "$state" != idle ]; then
  echo "slurm: node $HOST is '${state:-unknown}', not idle; logs in $STATE/log" >&2
  exit 1
fi
echo "slurm: up (node $HOST, $CPUS CPUs, configuration in $CONF, state in $STATE)"
