/** One value of a TwelveData `time_series` answer as the wire carries it (prices as strings). */
export interface SeriesValue {
  datetime: string;
  open: string;
  high: string;
  low: string;
  close: string;
}
