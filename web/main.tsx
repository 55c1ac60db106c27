// The entry point esbuild bundles (scripts/build-web.ts): renders the app into the page.
import { render } from 'preact'
import { App } from './app.js'

render(<App />, document.getElementById('app')!)
