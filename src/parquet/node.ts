import { createRequire } from 'node:module';
import { setParquetModule, type ParquetModule } from './codec.ts';

const require = createRequire(import.meta.url);

/** Under Node the wasm is loaded synchronously by the package itself. */
export function initParquet(): void {
  setParquetModule(require('parquet-wasm/node') as ParquetModule);
}
