// Binary values in the Node test harnesses' JSON lines: a Buffer (or any
// ArrayBuffer view) travels as {"$bin": "<base64>"} in both directions.
// Towards Node, {"$date": "<ISO>"} is a Date and {"$undefined": true}
// undefined, values JSON has not (a mongoose document holds Dates).
'use strict';

function toJSON(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString('base64') };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString('base64') };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(toJSON);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = toJSON(x);
    return o;
  }
  return v;
}

function fromJSON(v) {
  if (Array.isArray(v)) return v.map(fromJSON);
  if (v && typeof v === 'object') {
    if (typeof v.$bin === 'string') return Buffer.from(v.$bin, 'base64');
    if (typeof v.$date === 'string') return new Date(v.$date);
    if (v.$undefined === true) return undefined;
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = fromJSON(x);
    return o;
  }
  return v;
}

module.exports = { toJSON, fromJSON };
