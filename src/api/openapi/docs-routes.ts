import path from 'node:path';
import { Router } from 'express';
import { notFound } from '../http/problem';

// Swagger UI from the installed swagger-ui-dist package: no CDN, nothing fetched from elsewhere. Only its folder
// is looked up: requiring the package evaluates its 2 MB of browser bundles, 41 MB of RSS for nothing.
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** The only files of the package served; anything else under /docs is a 404. */
const ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>txflow API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/swagger-initializer.js"></script>
  </body>
</html>
`;

// A file of its own, not an inline script: the page's CSP allows scripts from this origin only.
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

/**
 * The page's own CSP (helmet's is off for the whole API): scripts and styles from this origin only, nothing
 * inline; the document and "Try it out" calls go to this origin. (Swagger UI's React style properties are set
 * through the DOM, which style-src does not govern.)
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `GET /openapi.json` (generated from the zod schemas) and `GET /docs`, Swagger UI rendering it. */
export function docsRouter(document: object): Router {
  const router = Router();
  const json = JSON.stringify(document);

  router.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('json').send(json);
  });

  router.get('/docs', (_req, res) => {
    res.set({ 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }).type('html').send(PAGE);
  });

  router.get('/docs/:file', (req, res) => {
    const { file } = req.params;
    if (file === 'swagger-initializer.js') {
      res.set('Cache-Control', 'no-cache').type('js').send(INITIALIZER);
      return;
    }
    if (!ASSETS.has(file)) throw notFound(`/docs/${file}`);
    res.sendFile(path.join(SWAGGER_UI_DIR, file), { maxAge: '1h' });
  });

  return router;
}
