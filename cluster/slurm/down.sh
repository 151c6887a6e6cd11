#!/usr/bin/env bash
# Stop what cluster/slurm/up.sh STATE_DIR started (munge, shared with the machine, stays up).
STATE=$(realpath -m "${1:?usage: down.sh STATE_DIR}")
for pidfile in "$STATE"/run/slurmd.pid "$STATE"/run/slurmctld.pid "$STATE"/run/slurmdbd.pid "$STATE"/run/mysql.pid; do
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
done
for _ in $(seq 40); do
  alive=0
  for pidfile in "$STATE"/run/*.pid; do [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.5
done
if grep -qx "# learnscope test cluster" /etc/slurm/slurm.conf 2>/dev/null; then
  rm -f /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf
fi
echo "slurm: stopped (state in $STATE)"
