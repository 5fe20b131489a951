/**
 * The portal as a page of its own (web/portal/index.html, served at /portal/): React and the portal's code only,
 * without the staff shell, antd or ECharts, for a fast first paint on a slow phone; the second input
 * of web/vite.config.ts.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setDictionaryLoader } from '../i18n/i18n-core.js';
import { PortalApp } from './portal-app.component.js';

// English texts only when a resident chooses English (a chunk of its own, not in the first paint).
setDictionaryLoader('en', () =>
  Promise.all([import('./en-portal.js'), import('../shell/en-roles.js')]).then(([p, r]) => ({ ...p.enPortal, ...r.enRoles })),
);

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');
if (!window.location.hash.startsWith('#/portal')) window.location.hash = '#/portal';
createRoot(container).render(
  <StrictMode>
    <PortalApp />
  </StrictMode>,
);
