import path from 'node:path';
import { z } from 'zod';
import { notFound } from '../http/problem';
import { route, type RouteDeclaration } from '../http/route';
import { problem } from './responses';

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

/** Where the document is served; Swagger UI loads it from there. */
const DOCUMENT_PATH = '/openapi.json';

// A file of its own, not an inline script: the page's CSP allows scripts from this origin only.
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '${DOCUMENT_PATH}',
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

/** The documentation is open: no key needed, even with API_KEYS set. */
const OPEN = { tags: ['operations'], open: true };

/**
 * `GET /openapi.json` and `GET /docs`, Swagger UI rendering it. `document` is the JSON text, asked for when
 * first served: the document describes these routes too, so it is built once all routes are declared.
 */
export function docsRoutes(document: () => string): RouteDeclaration[] {
  return [
    route({
      method: 'get',
      path: DOCUMENT_PATH,
      operationId: 'getOpenApi',
      summary: 'This document',
      ...OPEN,
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': null } } },
      handler: (_input, _req, res) => {
        res.set('Cache-Control', 'no-cache').type('json').send(document());
      },
    }),
    route({
      method: 'get',
      path: '/docs',
      operationId: 'getDocs',
      summary: 'This document in Swagger UI',
      ...OPEN,
      responses: { '200': { description: 'the Swagger UI page', content: { 'text/html': null } } },
      handler: (_input, _req, res) => {
        res.set({ 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }).type('html').send(PAGE);
      },
    }),
    route({
      method: 'get',
      path: '/docs/:file',
      params: z.object({ file: z.string() }),
      operationId: 'getDocsAsset',
      summary: "Swagger UI's scripts, style sheet and icons",
      ...OPEN,
      responses: {
        '200': { description: 'the file' },
        '404': problem('no such file'),
      },
      handler: ({ params: { file } }, _req, res) => {
        if (file === 'swagger-initializer.js') {
          res.set('Cache-Control', 'no-cache').type('js').send(INITIALIZER);
          return;
        }
        if (!ASSETS.has(file)) throw notFound(`/docs/${file}`);
        res.sendFile(path.join(SWAGGER_UI_DIR, file), { maxAge: '1h' });
      },
    }),
  ];
}
