/** JSON schemas shared by the route modules: now in ./contracts/common.ts (kept for existing imports). */
export { idParams, pageQuery } from './contracts/common.js';
