/** The dashboard build: src/web -> dist/web, served by the Tasa server at `/`. No asset comes from outside. */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/web',
  base: '/',
  build: { outDir: '../../dist/web', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
