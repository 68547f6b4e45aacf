/** Compatibility entry: the multi-power law now lives in ./mpl/ (law, direct sum, preparation, series, evaluator). */
export * from './mpl/index.js';
