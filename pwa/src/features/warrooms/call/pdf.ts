// PDF proposals on the shared stage, drawn with pdf.js (loaded on first use: it is not part of the
// shell). The worker is a file of our own origin, so the CSP needs nothing new; eval stays off.
import type { PDFDocumentProxy } from 'pdfjs-dist'

async function pdfjs() {
  const lib = await import('pdfjs-dist')
  const worker = await import('pdfjs-dist/build/pdf.worker.min.mjs?url')
  lib.GlobalWorkerOptions.workerSrc = worker.default
  return lib
}

/** Opens a PDF from the stage's URL (members only, same origin) or from the bytes a presenter picked. */
export async function openPdf(source: { url: string } | { data: Uint8Array }): Promise<PDFDocumentProxy> {
  const lib = await pdfjs()
  return lib.getDocument({ ...source, isEvalSupported: false }).promise
}

/** Draws one page (1-based) to fill the canvas's width, sharp on high-density screens. */
export async function drawPage(doc: PDFDocumentProxy, pageNumber: number, canvas: HTMLCanvasElement): Promise<void> {
  const page = await doc.getPage(pageNumber)
  const base = page.getViewport({ scale: 1 })
  const ratio = window.devicePixelRatio || 1
  const viewport = page.getViewport({ scale: ((canvas.clientWidth || 340) / base.width) * ratio })
  canvas.width = Math.floor(viewport.width)
  canvas.height = Math.floor(viewport.height)
  const context = canvas.getContext('2d')
  if (!context) return
  await page.render({ canvasContext: context, viewport }).promise
}

export function toBase64(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(text)
}
