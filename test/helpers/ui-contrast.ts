/**
 * WCAG contrast of text as Chromium paints it: the element's computed colour (with its opacity)
 * over the background it actually sits on (the backgrounds of it and its ancestors, blended, over
 * white), by the WCAG 2 relative-luminance formula.
 */
import type { Locator } from 'playwright-core';

/** What `contrastOf` measured for one element. */
export interface MeasuredContrast {
  text: string;
  /** The contrast ratio, e.g. 4.83 (for 4.83:1). */
  ratio: number;
  /** The minimum WCAG AA asks for this text: 3 for large text, else 4.5. */
  required: number;
  color: string;
  background: string;
}

/** Measures the first element `locator` matches. */
export function contrastOf(locator: Locator): Promise<MeasuredContrast> {
  return locator.first().evaluate((element) => {
    type Rgba = { r: number; g: number; b: number; a: number };
    // Chromium computes every colour (light-dark() included) to rgb()/rgba(); a canvas reads any
    // other syntax it might use.
    const parse = (css: string): Rgba => {
      const match = /^rgba?\(([^)]+)\)$/.exec(css);
      if (match) {
        const [r = 0, g = 0, b = 0, a = 1] = match[1]!
          .split(/[\s,/]+/)
          .filter(Boolean)
          .map(Number);
        return { r, g, b, a };
      }
      const canvas = document.createElement('canvas').getContext('2d')!;
      canvas.fillStyle = css;
      canvas.fillRect(0, 0, 1, 1);
      const [r = 0, g = 0, b = 0, a = 255] = canvas.getImageData(0, 0, 1, 1).data;
      return { r, g, b, a: a / 255 };
    };
    const over = (top: Rgba, base: Rgba): Rgba => ({
      r: top.r * top.a + base.r * (1 - top.a),
      g: top.g * top.a + base.g * (1 - top.a),
      b: top.b * top.a + base.b * (1 - top.a),
      a: 1,
    });
    const layers: Rgba[] = [];
    for (let node: Element | null = element; node; node = node.parentElement) {
      const layer = parse(getComputedStyle(node).backgroundColor);
      if (layer.a > 0) layers.push(layer);
      if (layer.a >= 1) break;
    }
    const background = layers.reverse().reduce((base, layer) => over(layer, base), {
      r: 255,
      g: 255,
      b: 255,
      a: 1,
    });
    const style = getComputedStyle(element);
    const foreground = parse(style.color);
    const opacity = Number.parseFloat(style.opacity);
    const color = over({ ...foreground, a: foreground.a * opacity }, background);
    const luminance = ({ r, g, b }: Rgba) => {
      const channel = (value: number) => {
        const v = value / 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const [light, dark] = [luminance(color), luminance(background)].sort((x, y) => y - x);
    const size = Number.parseFloat(style.fontSize);
    const bold = Number.parseInt(style.fontWeight, 10) >= 700;
    const rgb = ({ r, g, b }: Rgba) => `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;
    return {
      text: (element.textContent ?? '').trim(),
      ratio: Math.round(((light! + 0.05) / (dark! + 0.05)) * 100) / 100,
      required: size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5,
      color: rgb(color),
      background: rgb(background),
    };
  });
}
