// The chart library, imported as text (routes.ts serves it).
declare const text: string;
export default text;
