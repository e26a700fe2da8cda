// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by module, optionally
// only for samples inside given time windows (process.hrtime in µs; V8 stamps samples with the same
// monotonic clock on Linux).
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A package name, node:internal, our source file, or a V8 pseudo-frame such as (garbage collector). */
function moduleOf(url: string, functionName: string, root: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inModules) {
    // Nested node_modules: the innermost package.
    const all = [...path.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    return all.at(-1)?.[1] ?? inModules[1]!;
  }
  if (path.startsWith('node:')) return 'node (internal)';
  if (path.startsWith('/')) return relative(root, path);
  return path;
}

export interface ProfileSummary {
  text: string;
  sampledMs: number;
}

export async function summariseProfile(file: string, root: string, windows: Array<[number, number]> = [], top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const moduleChains = new Map<number, Set<string>>();
  /** Every module on the stack of a node (memoised per node). */
  const modulesOnStack = (id: number): Set<string> => {
    let modules = moduleChains.get(id);
    if (modules) return modules;
    const node = byId.get(id)!;
    const parent = parentOf.get(id);
    modules = new Set(parent === undefined ? [] : modulesOnStack(parent));
    if (node.callFrame.url) modules.add(moduleOf(node.callFrame.url, node.callFrame.functionName, root));
    moduleChains.set(id, modules);
    return modules;
  };
  const totalByModule = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let time = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    if (windows.length > 0 && !windows.some(([from, to]) => time >= from && time <= to)) continue;
    const node = byId.get(profile.samples[index]!);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += delta;
      continue;
    }
    total += delta;
    const module = moduleOf(url, functionName, root);
    const name = `${functionName || '(anonymous)'}  ${module}${url ? `:${lineNumber + 1}` : ''}`;
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + delta);
    selfByModule.set(module, (selfByModule.get(module) ?? 0) + delta);
    for (const onStack of modulesOnStack(node.id)) totalByModule.set(onStack, (totalByModule.get(onStack) ?? 0) + delta);
  }
  const share = (value: number) => `${((100 * value) / Math.max(total, 1)).toFixed(1).padStart(5)}%`;
  const rank = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [
    `busy ${(total / 1000).toFixed(0)} ms sampled, idle ${(idle / 1000).toFixed(0)} ms${windows.length ? ` (only the ${windows.length} selected window(s))` : ''}; shares are of busy time`,
    '',
    'self time by module:',
    ...rank(selfByModule).map(([name, value]) => `  ${share(value)}  ${name}`),
    '',
    'total time by module (anywhere on the stack; overlaps):',
    ...rank(totalByModule).map(([name, value]) => `  ${share(value)}  ${name}`),
    '',
    'self time by function:',
    ...rank(selfByFunction).map(([name, value]) => `  ${share(value)}  ${name}`),
  ];
  return { text: lines.join('\n'), sampledMs: total / 1000 };
}
