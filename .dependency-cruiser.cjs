// The layering rules (README, "Layout"): server.ts → app.ts → plugins/ and routes/ → db/ → lib/.
// `npm run lint` runs this; a wrong import fails with the rule's name and the comment below it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules must not import each other, directly or through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-imports-only-lib',
      comment: 'lib/ is the bottom layer: it imports only lib/ and the generated SDK types (sdk/).',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(app|server)\\.ts$|^(db|plugins|routes|scripts|test)/' },
    },
    {
      name: 'db-imports-only-lib',
      comment: 'db/ (repositories) imports only db/ and lib/ (and the generated SDK types).',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^(app|server)\\.ts$|^(plugins|routes|scripts|test)/' },
    },
    {
      name: 'routes-reach-plugins-through-request-server',
      comment: 'Handlers use plugins through request.server decorators, never by import.',
      severity: 'error',
      from: { path: '^routes/' },
      to: { path: '^plugins/' },
    },
    {
      name: 'routes-do-not-import-routes',
      comment:
        'A route module imports no other route module; shared pieces live in lib/ or db/. Only routes/index.ts gathers them.',
      severity: 'error',
      from: { path: '^routes/', pathNot: '^routes/index\\.ts$' },
      to: { path: '^routes/' },
    },
    {
      name: 'plugins-do-not-import-routes',
      comment: 'Plugins never import handlers or their helpers; shared pieces live in lib/ or db/.',
      severity: 'error',
      from: { path: '^plugins/' },
      to: { path: '^routes/' },
    },
    {
      name: 'only-server-imports-app',
      comment:
        'app.ts builds the app for server.ts and the tests; nothing else imports it, and nothing imports server.ts.',
      severity: 'error',
      from: { path: '^(lib|db|plugins|routes|scripts|sdk)/' },
      to: { path: '^(app|server)\\.ts$' },
    },
    {
      name: 'sdk-stands-alone',
      comment: 'sdk/ is published on its own: it imports nothing of the server.',
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: '^(app|server)\\.ts$|^(lib|db|plugins|routes|scripts|test)/' },
    },
    {
      name: 'web-imports-only-sdk',
      comment:
        'web/ is the browser client: it talks to the server through the SDK (sdk/) only, never imports server code.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^(app|server)\\.ts$|^(lib|db|plugins|routes|scripts|test)/' },
    },
    {
      name: 'no-test-code-in-the-server',
      comment: 'Nothing outside test/ imports test helpers.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|sdk/dist|coverage|\\.tap)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
