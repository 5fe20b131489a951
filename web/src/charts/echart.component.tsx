/**
 * A thin React wrapper over ECharts: init on a div, setOption when the option changes, resize
 * with the container, dispose on unmount. After ECharts reports 'finished' the container gets
 * data-rendered="true", so tests (and people debugging) can tell the chart actually drew.
 */
import { useEffect, useRef, type CSSProperties } from 'react';
import { echarts, type EChartsOption } from './echarts.js';

export interface EChartProps {
  option: EChartsOption;
  height?: number;
  testId?: string;
  style?: CSSProperties;
  ariaLabel?: string;
  /** Called with the name of the data item clicked (graph nodes, bars). */
  onClick?: (name: string) => void;
}

export function EChart({ option, height = 280, testId, style, ariaLabel, onClick }: EChartProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<ReturnType<typeof echarts.init> | null>(null);

  useEffect(() => {
    const element = containerRef.current;
    if (!element) return undefined;
    const chart = echarts.init(element, undefined, { renderer: 'canvas' });
    chartRef.current = chart;
    const onFinished = () => element.setAttribute('data-rendered', 'true');
    chart.on('finished', onFinished);
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.off('finished', onFinished);
      chart.dispose();
      chartRef.current = null;
      element.removeAttribute('data-rendered');
    };
  }, []);

  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    containerRef.current?.setAttribute('data-rendered', 'false');
    chart.setOption(option, { notMerge: true });
  }, [option]);

  const clickRef = useRef(onClick);
  clickRef.current = onClick;
  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return undefined;
    const handler = (p: { name?: string }) => {
      if (p.name) clickRef.current?.(p.name);
    };
    chart.on('click', handler);
    return () => {
      chart.off('click', handler);
    };
  }, []);

  return <div ref={containerRef} data-testid={testId} role="img" aria-label={ariaLabel} style={{ width: '100%', height, ...style }} />;
}
