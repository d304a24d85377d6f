#!/usr/bin/env node
// Entry point for the installed `tasa` command: runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
