/**
 * The portal as a page of its own (web/portal/index.html, served at /portal/): React and the portal's code only,
 * without the staff shell, antd or ECharts, for a fast first paint on a slow phone; the second input
 * of web/vite.config.ts.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setDictionary } from '../i18n/i18n-core.js';
import { enRoles } from '../shell/en-roles.js';
import { enPortal } from './en-portal.js';
import { PortalApp } from './portal-app.component.js';

// The portal's own English texts (2 kB), not the staff app's whole dictionary.
setDictionary('en', { ...enPortal, ...enRoles });

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');
if (!window.location.hash.startsWith('#/portal')) window.location.hash = '#/portal';
createRoot(container).render(
  <StrictMode>
    <PortalApp />
  </StrictMode>,
);
