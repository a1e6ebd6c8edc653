// The official Java SDK against tandem: activity, timer, signal, query, and an update whose
// validator rejects.
package smoke;

import io.temporal.activity.*;
import io.temporal.client.*;
import io.temporal.serviceclient.*;
import io.temporal.worker.*;
import io.temporal.workflow.*;
import java.time.Duration;

public class Main {
  @ActivityInterface public interface Greet { String greet(String n); }
  public static class GreetImpl implements Greet { public String greet(String n) { return "hello " + n; } }

  @WorkflowInterface public interface Greeter {
    @WorkflowMethod String run(String name);
    @SignalMethod void bump();
    @QueryMethod int count();
    @UpdateMethod int add(int n);
    @UpdateValidatorMethod(updateName = "add") void validateAdd(int n);
  }
  public static class GreeterImpl implements Greeter {
    int count = 0; boolean done = false;
    final Greet act = Workflow.newActivityStub(Greet.class, ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(10)).build());
    public String run(String name) {
      Workflow.sleep(Duration.ofMillis(50));
      String r = act.greet(name);
      Workflow.await(() -> done);
      return r + " x" + count;
    }
    public void bump() { done = true; }
    public int count() { return count; }
    public int add(int n) { count += n; return count; }
    public void validateAdd(int n) { if (n > 10) throw new IllegalArgumentException("too big"); }
  }

  static void check(boolean ok, String what) {
    if (!ok) { System.err.println("FAILED: " + what); System.exit(1); }
  }

  public static void main(String[] args) {
    WorkflowServiceStubs svc = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(args[0]).build());
    WorkflowClient client = WorkflowClient.newInstance(svc);
    WorkerFactory f = WorkerFactory.newInstance(client);
    Worker w = f.newWorker("java");
    w.registerWorkflowImplementationTypes(GreeterImpl.class);
    w.registerActivitiesImplementations(new GreetImpl());
    f.start();
    Greeter g = client.newWorkflowStub(Greeter.class, WorkflowOptions.newBuilder().setTaskQueue("java").setWorkflowId("java-" + System.nanoTime()).build());
    WorkflowClient.start(g::run, "java");
    boolean rejected = false;
    try { g.add(50); } catch (WorkflowUpdateException e) { rejected = true; }
    check(rejected, "the validator should have rejected 50");
    check(g.add(5) == 5, "update");
    check(g.count() == 5, "query");
    g.bump();
    String result = WorkflowStub.fromTyped(g).getResult(String.class);
    check(result.equals("hello java x5"), "result " + result);
    System.out.println("ok " + result);
    f.shutdown();
    System.exit(0);
  }
}
