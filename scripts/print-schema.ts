// npm run schema:print: writes schema.graphql from the code-first schema (committed; a test compares).
import { writeFile } from 'node:fs/promises';
import { printedSchema } from '../src/schema/index.js';

await writeFile(new URL('../schema.graphql', import.meta.url), printedSchema());
console.log('wrote schema.graphql');
