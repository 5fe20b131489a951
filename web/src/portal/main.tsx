/**
 * The portal as a page of its own (web/portal/index.html, served at /portal/): React and the portal's code only,
 * without the staff shell, antd or ECharts, for a fast first paint on a slow phone; the second input
 * of web/vite.config.ts.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { PortalApp } from './portal-app.component.js';

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');
if (!window.location.hash.startsWith('#/portal')) window.location.hash = '#/portal';
createRoot(container).render(
  <StrictMode>
    <PortalApp />
  </StrictMode>,
);
