package org.charrnn.caption;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The page of {@code charrnn caption demo}: one self-contained HTML file showing each held-out
 * image (an inline PNG), the model's caption (marked when it equals a reference) and the reference
 * captions, under a summary of the run.
 */
public final class CaptionPage {
    /** One held-out image: its index, pixels, the generated caption and the references. */
    public record Entry(int image, int[] pixels, String generated, List<String> references) {
        public boolean exact() {
            return references.contains(generated);
        }
    }

    private CaptionPage() {}

    /** The page; {@code summary} lines go in the header, {@code note} under it. */
    public static String html(String title, List<String> summary, String note, List<Entry> entries) {
        StringBuilder sb = new StringBuilder(4096 + entries.size() * 1200);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
                .append(esc(title))
                .append("</title>\n<style>\n")
                .append("body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\n")
                .append(".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}\n")
                .append("figure.scene{display:flex;gap:10px;margin:0;padding:8px;border:1px solid #ddd;"
                        + "border-radius:6px}\n")
                .append("figure.scene img{width:96px;height:96px;image-rendering:pixelated;flex:none;"
                        + "border:1px solid #ccc}\n")
                .append("figcaption{font-size:14px}\n")
                .append(".generated{font-weight:600;margin:0 0 4px}\n")
                .append(".generated.exact{color:#176b2c}.generated.differs{color:#a3241a}\n")
                .append("ul.references{margin:0;padding-left:1.1em;color:#555}\n")
                .append(".note{color:#555;max-width:60em}\n")
                .append("</style></head><body>\n<h1>")
                .append(esc(title))
                .append("</h1>\n<ul class=\"summary\">\n");
        for (String s : summary) sb.append("<li>").append(esc(s)).append("</li>\n");
        sb.append("</ul>\n<p class=\"note\">").append(esc(note)).append("</p>\n<div class=\"grid\">\n");
        for (Entry e : entries) {
            sb.append("<figure class=\"scene\" id=\"image-")
                    .append(e.image())
                    .append("\"><img alt=\"image ")
                    .append(e.image())
                    .append("\" src=\"data:image/png;base64,")
                    .append(png(e.pixels()))
                    .append("\"><figcaption><p class=\"generated ")
                    .append(e.exact() ? "exact" : "differs")
                    .append("\" title=\"")
                    .append(e.exact() ? "equals a reference" : "differs from every reference")
                    .append("\">")
                    .append(esc(e.generated()))
                    .append("</p><ul class=\"references\">");
            for (String r : e.references()) sb.append("<li>").append(esc(r)).append("</li>");
            sb.append("</ul><small>image ").append(e.image()).append("</small></figcaption></figure>\n");
        }
        sb.append("</div>\n</body></html>\n");
        return sb.toString();
    }

    /** Base64 of a PNG of square {@code pixels} (0xRRGGBB, row-major). */
    static String png(int[] pixels) {
        int n = (int) Math.round(Math.sqrt(pixels.length));
        if (n * n != pixels.length) throw new IllegalArgumentException("not a square image");
        BufferedImage img = new BufferedImage(n, n, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, n, n, pixels, 0, n);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) throw new IllegalStateException("no PNG writer");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (char c : s.toCharArray())
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c);
            }
        return sb.toString();
    }
}
