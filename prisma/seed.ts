import { generateKeyBetween } from 'fractional-indexing';
// npm run db:seed: a demo account with tags and a few dozen varied tasks, for trying the API.
// Running it again changes nothing: the demo user is found by email, and tags and tasks are only
// created when the demo user has none.
import { hashPassword } from '../src/auth/passwords.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { createPrisma } from '../src/db/prisma.js';
import type { Priority } from '../src/generated/prisma/client.js';

export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo password 123';

const TAGS = [
  { name: 'work', color: '#1f77b4' },
  { name: 'home', color: '#2ca02c' },
  { name: 'errands', color: '#ff7f0e' },
  { name: 'health', color: '#d62728' },
  { name: 'someday', color: null },
];
const TITLES = [
  'Reply to the landlord', 'Book dentist appointment', 'Prepare quarterly report', 'Water the plants', 'Call mum',
  'Renew passport', 'Fix the bike brakes', 'Plan the team offsite', 'Buy birthday present', 'Clean the gutters',
  'Review pull requests', 'Pay electricity bill', 'Go for a run', 'Read "Designing Data-Intensive Applications"',
  'Back up the laptop', 'Write blog post draft',
];
const PRIORITIES: Priority[] = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'];
const DAY = 86_400_000;

const config = loadConfig();
const database = await openDatabase(config.database, (line) => console.error(line));
try {
  await migrate(database.url, { log: (line) => console.error(line) });
  const { prisma, close } = createPrisma(database.url, config.database);
  try {
    const existing = await prisma.user.findUnique({ where: { email: DEMO_EMAIL }, include: { _count: { select: { tasks: true } } } });
    if (existing && existing._count.tasks > 0) {
      console.log(`demo user ${DEMO_EMAIL} already has ${existing._count.tasks} tasks: nothing to do`);
    } else {
      const user =
        existing ??
        (await prisma.user.create({
          data: { email: DEMO_EMAIL, passwordHash: await hashPassword(DEMO_PASSWORD), name: 'Demo User', timeZone: 'Europe/Berlin' },
        }));
      const tags = await Promise.all(TAGS.map((tag) => prisma.tag.create({ data: { ...tag, userId: user.id } })));
      const inbox = await prisma.list.findFirstOrThrow({ where: { userId: user.id, isInbox: true } });
      const work = await prisma.list.create({ data: { userId: user.id, name: 'Work', color: '#3b82f6', position: generateKeyBetween(inbox.position, null) } });
      const home = await prisma.list.create({ data: { userId: user.id, name: 'Home', color: '#22c55e', position: generateKeyBetween(work.position, null) } });
      const lists = [inbox, work, home];
      const lastPosition = new Map<string, string | null>();
      const today = new Date(new Date().toISOString().slice(0, 10)).getTime() + 9 * 3_600_000;
      for (let i = 0; i < 36; i++) {
        const dueAt = i % 4 === 3 ? null : new Date(today + ((i % 11) - 4) * DAY);
        const recurring = dueAt !== null && i % 9 === 0;
        const completed = i % 5 === 0;
        const id = crypto.randomUUID();
        const list = lists[i % lists.length]!;
        const position = generateKeyBetween(lastPosition.get(list.id) ?? null, null);
        lastPosition.set(list.id, position);
        await prisma.task.create({
          data: {
            id,
            userId: user.id,
            listId: list.id,
            position,
            title: TITLES[i % TITLES.length]! + (i >= TITLES.length ? ` (${Math.floor(i / TITLES.length) + 1})` : ''),
            description: i % 3 === 0 ? 'Notes: remember to check the details first.' : '',
            priority: PRIORITIES[i % PRIORITIES.length]!,
            dueAt,
            remindAt: dueAt && i % 6 === 1 ? new Date(dueAt.getTime() - 3_600_000) : null,
            recurrence: recurring ? (i % 2 === 0 ? 'FREQ=WEEKLY;BYDAY=MO' : 'FREQ=DAILY') : null,
            seriesId: recurring ? id : null,
            completed,
            completedAt: completed ? new Date() : null,
            taskTags: { create: [tags[i % tags.length]!, ...(i % 4 === 0 ? [tags[(i + 2) % tags.length]!] : [])].map((tag) => ({ tagId: tag.id })) },
          },
        });
      }
      console.log(`seeded ${DEMO_EMAIL} (password: ${DEMO_PASSWORD}) with ${tags.length} tags and 36 tasks`);
    }
  } finally {
    await close();
  }
} finally {
  await database.close();
}
