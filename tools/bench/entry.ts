/** The mbdir command the bench runs its helper processes with (node, echo, Watch subscribers). */
import { fileURLToPath } from 'node:url';

export const mbdirEntry = fileURLToPath(new URL('../mbdir.js', import.meta.url));
