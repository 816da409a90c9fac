import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'
import { defineConfig, type Plugin } from 'vite'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { constants, gzipSync } from 'node:zlib'

/** Vant inlines its icon font (~25 KB woff2, base64) in the icon CSS, which every page loads before
 * its first paint. This moves the font into a file of its own, fetched only when an icon is drawn,
 * and drops the CDN fallback that follows it. */
function vantIconFontFile(): Plugin {
  const cacheDir = fileURLToPath(new URL('./node_modules/.cache/zhanye', import.meta.url))
  const fontFile = join(cacheDir, 'vant-icon.woff2')
  return {
    name: 'zhanye-vant-icon-font',
    enforce: 'pre',
    transform(code, id) {
      if (!id.replace(/\\/g, '/').endsWith('vant/es/icon/index.css')) return null
      const match = /url\(data:font\/woff2;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\)/.exec(code)
      if (!match) return null
      mkdirSync(cacheDir, { recursive: true })
      writeFileSync(fontFile, Buffer.from(match[1], 'base64'))
      const url = relative(dirname(id), fontFile).replace(/\\/g, '/')
      // The remote fallback (Vant's CDN copy) is dropped: the CSP forbids it and offline it cannot load.
      const local = code.replace(match[0], `url(${url})`).replace(/,\s*url\((?:https?:)?\/\/[^)]*\)\s*format\("woff"\)/g, '')
      return { code: local, map: null }
    },
  }
}

/** Writes `name.gz` next to every compressible file of dist/assets, so the server can send
 * gzip without compressing per request (Flask serves it when the client accepts gzip). */
function precompress(): Plugin {
  let outDir = 'dist'
  return {
    name: 'zhanye-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir
    },
    closeBundle() {
      const dir = join(outDir, 'assets')
      for (const name of readdirSync(dir)) {
        if (!/\.(js|css|svg|json)$/.test(name)) continue
        const file = join(dir, name)
        if (statSync(file).size < 1024) continue
        writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION }))
      }
    },
  }
}

/** Marks the chunks every start runs (the entry and what it imports statically) with V8's explicit
 * compile hint, so their functions are compiled with the script, off the main thread while it
 * streams in, instead of one by one when first called: some 300 functions, about half of the first
 * render's task, were compiled there. The comment has to be the file's first line. */
function eagerStartupChunks(): Plugin {
  const HINT = '//# allFunctionsCalledOnLoad\n'
  return {
    name: 'zhanye-eager-startup-chunks',
    apply: 'build',
    // on the written files: Vite puts the entry's preload map in front of its code after every
    // plugin's generateBundle
    writeBundle(options, bundle) {
      const entries = Object.values(bundle).filter((c) => c.type === 'chunk' && c.isEntry)
      const names = new Set(entries.flatMap((c) => (c.type === 'chunk' ? [c.fileName, ...c.imports] : [])))
      for (const name of names) {
        const file = join(options.dir ?? 'dist', name)
        const code = readFileSync(file, 'utf8')
        if (!code.startsWith(HINT)) writeFileSync(file, HINT + code)
      }
    },
  }
}

const THEME = '#1f4e9c'

export default defineConfig({
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    __APP_VERSION__: JSON.stringify(process.env.npm_package_version || '0.1.0'),
    // vue-i18n: JIT message compilation (no eval), no legacy API, no devtools in production.
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    // The app compiles its catalogs' messages itself (src/i18n): vue-i18n's message parser stays out.
    __INTLIFY_DROP_MESSAGE_COMPILER__: true,
  },
  plugins: [
    // Every component here, Vant's and the router's included, is written with setup(): the Options
    // API's runtime (data, methods, mixins) stays out of the first screen's scripts.
    vue({ features: { optionsAPI: false } }),
    vantIconFontFile(),
    eagerStartupChunks(),
    precompress(),
    // Vant components (and only their own CSS) are imported where a template uses them.
    Components({ resolvers: [VantResolver()], dts: 'components.d.ts' }),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        id: '/',
        name: '展业·客户经理工作台',
        short_name: '展业',
        description: '银行客户经理的移动数字化工作台',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: THEME,
        background_color: '#f5f6f8',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
        shortcuts: [
          {
            name: '新建记事',
            short_name: '记事',
            description: 'New note',
            url: '/notes/new',
            icons: [{ src: '/icons/shortcut-note-96.png', sizes: '96x96', type: 'image/png' }],
          },
          {
            name: '商机动态',
            short_name: '商机',
            description: 'Opportunity feed',
            url: '/opportunities',
            icons: [{ src: '/icons/shortcut-opportunity-96.png', sizes: '96x96', type: 'image/png' }],
          },
        ],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest,woff2}'],
        // the maskable and 512 icons are only for the installer, not for offline use; pdf.js draws a
        // PDF on a war room's shared stage, which needs the network anyway (~100 KB gz not precached)
        globIgnores: ['icons/icon-512.png', 'icons/maskable-512.png', 'assets/pdf-*.js', 'assets/pdf.worker*'],
      },
      devOptions: { enabled: false, type: 'module' },
    }),
  ],
  build: {
    target: 'es2020',
    cssCodeSplit: true,
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:5000', '/socket.io': { target: 'ws://127.0.0.1:5000', ws: true } },
  },
})
