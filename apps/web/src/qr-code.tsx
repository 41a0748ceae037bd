/**
 * A QR code of a text as SVG elements (never markup from a string): `uqr` computes the modules,
 * this draws one path of unit squares.
 */
import { encode } from "uqr";

/** Draws `text` as a QR code. @param props - the text and the drawn size in CSS pixels */
export function QrCode(props: { readonly text: string; readonly size?: number }) {
  let modules: boolean[][];
  try {
    modules = encode(props.text, { ecc: "L", border: 2 }).data;
  } catch {
    return <p class="note">(too long for a QR code)</p>;
  }
  const n = modules.length;
  let path = "";
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`;
    });
  });
  const size = props.size ?? 180;
  return (
    <svg
      class="qr"
      data-testid="qr"
      width={size}
      height={size}
      viewBox={`0 0 ${n} ${n}`}
      shape-rendering="crispEdges"
      role="img"
      aria-label="QR code of the share link"
    >
      <rect width={n} height={n} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
