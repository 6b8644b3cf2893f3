# SPDX-License-Identifier: GPL-2.0
"""corosync daemons for the "hosts" (network namespaces) of a test or a
benchmark: one each, a configuration written here (knet over the hosts'
addresses, no crypto, no quorum), started in a mount namespace of its own
with a private /run (corosync's pid file is /run/corosync.pid). Its IPC
is an abstract unix socket, which belongs to the network namespace: a
program run in the same host reaches that host's corosync.

The daemon comes unpacked from Debian's package by
selftests/vm/fetch-corosync.sh (build/corosync), never installed."""

import os
import signal
import subprocess

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..'))
COROSYNC = os.environ.get('VCB_COROSYNC', os.path.join(
    TOP, 'build', 'corosync', 'usr', 'sbin', 'corosync'))
# Under TCG a busy guest must not lose the token by accident: a slower
# failure detection than corosync's 3 s default (a killed node is seen
# after token + consensus, 1.2 × token: about 13 s).
TOKEN_MS = 6000


def available():
    return os.access(COROSYNC, os.X_OK)


def nsenter(host, *argv):
    return ['nsenter', f'--net=/run/netns/{host}', *argv]


class Corosync:
    """corosync -f in @host of @hosts ({name: address}, node IDs in that
    order from 1); its configuration, state and log under @tmp."""

    def __init__(self, host, hosts, tmp, cluster='vcbtest'):
        self.host = host
        state = os.path.join(tmp, f'corosync-{host}')
        os.makedirs(state, exist_ok=True)
        self.conf = os.path.join(state, 'corosync.conf')
        self.log = os.path.join(tmp, f'corosync-{host}.log')
        nodes = ''.join(f'\tnode {{\n\t\tring0_addr: {ip}\n'
                        f'\t\tnodeid: {i + 1}\n\t\tname: {h}\n\t}}\n'
                        for i, (h, ip) in enumerate(hosts.items()))
        with open(self.conf, 'w') as f:
            f.write(f'''totem {{
	version: 2
	cluster_name: {cluster}
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: {TOKEN_MS}
}}
nodelist {{
{nodes}}}
logging {{
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	timestamp: hires
}}
system {{
	state_dir: {state}
	sched_rr: no
	move_to_root_cgroup: no
}}
''')
        self.start()

    def start(self):
        with open(self.log, 'a') as out:
            self.proc = subprocess.Popen(
                nsenter(self.host, 'unshare', '--mount', 'sh', '-c',
                        'mount -t tmpfs tmpfs /run && exec "$0" -f -c "$1"',
                        COROSYNC, self.conf), stdout=out, stderr=out)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def kill(self):
        """SIGKILL: gone without a word to the others."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
