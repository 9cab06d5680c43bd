// Browser entry of the live demo (bundled by scripts/build-demo.mjs into .demo/, served at /demo).
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import './demo.css';

const root = document.getElementById('demo');
if (root) createRoot(root).render(<App />);
