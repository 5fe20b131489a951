import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { unstableSetRender } from 'antd';
import { App } from './shell/app.component.js';
import './styles.css';

// antd 5 renders its pop-ups (wave effect, static message/modal) with React 18's legacy API by
// default; hand it React 19's createRoot instead.
unstableSetRender((node, container) => {
  const host = container as Element & { _yfRoot?: Root };
  host._yfRoot ??= createRoot(container);
  const root = host._yfRoot;
  root.render(node);
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    root.unmount();
    delete host._yfRoot;
  };
});

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');
createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
