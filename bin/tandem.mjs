#!/usr/bin/env node
// The `tandem` command: the TypeScript sources run through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/tandem.ts');
