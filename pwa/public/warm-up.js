// Loads the browser's date, number and time-zone data while the app's scripts are still downloading.
// The first Intl formatter of a page pays for it (tens of milliseconds on a slow phone), and the
// home's greeting needs one for the hour in the user's zone: without this it lands in the first render.
new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', hour: 'numeric', hourCycle: 'h23' }).format(0)
