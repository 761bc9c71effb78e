// The dashboard script, imported as text (routes.ts serves it).
declare const text: string;
export default text;
