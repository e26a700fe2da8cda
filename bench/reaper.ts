// Started detached by bench/run.ts, with an IPC channel: if the runner dies without cleaning up
// (e.g. SIGKILLed by the tsx CLI, which kills a child that does not acknowledge Ctrl-C within
// 30 ms), the channel closes and this stops the embedded PostgreSQL the runner had started.
//   node --import tsx bench/reaper.ts <pg_ctl> <cluster dir> [<uid> <gid>]
import { execFile } from 'node:child_process';

const [pgCtl, clusterDir, uid, gid] = process.argv.slice(2);
if (!pgCtl || !clusterDir || !process.send) process.exit(2);

process.on('message', (message) => {
  if (message === 'done') process.exit(0);
});
process.on('disconnect', () => {
  const owner = uid && gid ? { uid: Number(uid), gid: Number(gid) } : {};
  execFile(pgCtl, ['stop', '-w', '-m', 'fast', '-D', clusterDir], { ...owner, timeout: 60_000 }, () => process.exit(0));
});
// Ctrl-C goes to the runner's process group, not to this one (detached); ignore it anyway.
process.on('SIGINT', () => {});
