/*
 * A stateful job whose state can be read from outside: it counts, in keyed state, the numbers a
 * sequence source emits, at a bounded rate. Two gauges on the counting operator ("counter"), read
 * through Flink's REST API (/jobs/<jid>/vertices/<vid>/subtasks/metrics):
 *   count     the count so far (the state's value after the latest element)
 *   restored  the count the state held before this run's first element: 0 for a start from
 *             nothing, the savepoint's or checkpoint's count for a start that restored one
 * Built against the Flink distribution's own jars when the image is (scripts/image/build.sh), for
 * Flink 1.20 and 2.x alike (before 1.19, which has no OpenContext, the build compiles a copy with
 * open(Configuration)); run as local:///opt/flink/examples/streaming/Counter.jar.
 *
 * Arguments (all optional):
 *   --rate N        elements per second and source subtask (default 20)
 *   --fail-at N     throw when the count reaches N: with restarts the job keeps failing from its
 *                   latest checkpoint, without them it fails
 *   --finish-at N   the source ends after N elements, so the job finishes
 *   --fail-once F   with --fail-at: throw only if the file F could be created (it did not exist),
 *                   so the job fails once, on a volume every TaskManager shares
 */
package flinkop.examples;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

public final class Counter {
  private Counter() {}

  public static void main(String[] args) throws Exception {
    long rate = 20, failAt = -1, finishAt = Long.MAX_VALUE;
    String failOnce = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) throw new IllegalArgumentException("Counter: " + a + " needs a value");
      if (a.equals("--fail-once")) {
        failOnce = args[++i];
        continue;
      }
      long v = Long.parseLong(args[++i]);
      switch (a) {
        case "--rate": rate = v; break;
        case "--fail-at": failAt = v; break;
        case "--finish-at": finishAt = v; break;
        default: throw new IllegalArgumentException("Counter: unknown argument " + a);
      }
    }
    if (rate < 1 || rate > 100000) throw new IllegalArgumentException("Counter: --rate is 1 ... 100000");
    final long sleepMicros = 1_000_000L / rate, fail = failAt;
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    // the rate is held where the numbers come from (chained to the source), so the channels to
    // the counter stay short and a checkpoint's barriers are not stuck behind buffered numbers
    env.fromSequence(1, finishAt).name("sequence")
        .map(new Throttle(sleepMicros)).name("throttle")
        .keyBy(x -> 0L, Types.LONG)
        .process(new Count(fail, failOnce)).name("counter").uid("counter")
        .filter(c -> c % 100 == 0).name("every-100th")
        .print();
    env.execute("counter");
  }

  static final class Throttle implements MapFunction<Long, Long> {
    private final long sleepMicros;

    Throttle(long sleepMicros) {
      this.sleepMicros = sleepMicros;
    }

    @Override
    public Long map(Long x) throws Exception {
      Thread.sleep(sleepMicros / 1000, (int) (sleepMicros % 1000) * 1000);
      return x;
    }
  }

  static final class Count extends KeyedProcessFunction<Long, Long, Long> {
    private final long failAt;
    private final String failOnce;
    private transient ValueState<Long> state;
    private transient volatile long count, restored;
    private transient boolean first;

    Count(long failAt, String failOnce) {
      this.failAt = failAt;
      this.failOnce = failOnce;
    }

    @Override
    public void open(OpenContext ctx) {
      state = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
      first = true;
      getRuntimeContext().getMetricGroup().gauge("count", (Gauge<Long>) () -> count);
      getRuntimeContext().getMetricGroup().gauge("restored", (Gauge<Long>) () -> restored);
    }

    @Override
    public void processElement(Long x, Context ctx, Collector<Long> out) throws Exception {
      Long c = state.value();
      long n = c == null ? 0 : c;
      if (first) {
        restored = n;
        first = false;
      }
      n++;
      if (n == failAt && (failOnce == null || new java.io.File(failOnce).createNewFile()))
        throw new IllegalStateException("Counter: the count reached --fail-at " + failAt);
      state.update(n);
      count = n;
      out.collect(n);
    }
  }
}
