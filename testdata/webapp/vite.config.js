// One React app, two builds: `vite build --mode v4` bundles socket.io-client
// 4.x into dist-v4, `--mode v2` bundles 2.x (the npm alias
// socket.io-client-v2) into dist-v2, as older React apps still ship it. The
// app's source imports plain 'socket.io-client' either way.
import { defineConfig } from 'vite';

export default defineConfig(({ mode }) => {
  const client = mode === 'v2' ? 'v2' : 'v4';
  return {
    // Relative asset paths, so a build can be served under any prefix.
    base: './',
    define: { __SIO_CLIENT__: JSON.stringify(client) },
    resolve: {
      alias: client === 'v2' ? [{ find: /^socket\.io-client$/, replacement: 'socket.io-client-v2' }] : [],
    },
    // No React plugin needed: esbuild compiles JSX with the automatic runtime.
    esbuild: { jsx: 'automatic' },
    build: { outDir: `dist-${client}`, emptyOutDir: true },
    logLevel: 'warn',
  };
});
