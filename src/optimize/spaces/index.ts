/** The search strategy of every space (`Record<SpaceName, Strategy>`: adding a space means adding it here). */
import type { SpaceName, Strategy } from './strategy.js';
import { free } from './free.js';
import { piecewise } from './piecewise.js';
import { wsd } from './wsd.js';

export const STRATEGIES: Record<SpaceName, Strategy> = { free, piecewise, wsd };

export { SPACES, type SpaceName, type Strategy, type Candidate } from './strategy.js';
