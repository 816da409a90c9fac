// Loads the browser's date, number and time-zone data while the app's scripts are still downloading.
// The first Intl formatter of a page pays for it (tens of milliseconds on a slow phone), and the
// home's greeting needs one for the hour in the user's zone: without this it lands in the first render.
new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', hour: 'numeric', hourCycle: 'h23' }).format(0)

// The same for the fonts: the first layout of Chinese text finds and opens the CJK font (tens of
// milliseconds on a slow phone). Measuring a few characters here, in the stack and the two weights
// of src/styles/base.css, does that before the app's first render needs it.
;(function () {
  var stack =
    "-apple-system, BlinkMacSystemFont, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', 'Helvetica Neue', Arial, sans-serif"
  var context = document.createElement('canvas').getContext('2d')
  if (!context) return // no canvas text: the first render pays instead
  context.font = '16px ' + stack
  context.measureText('展业客户经理 1')
  context.font = '600 16px ' + stack
  context.measureText('展业客户经理 1')
})()
