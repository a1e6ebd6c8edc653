// The official Go SDK against tandem: activity, timer, signal, query, and an update whose
// validator rejects.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

func Greet(ctx context.Context, name string) (string, error) {
	activity.GetLogger(ctx).Info("greet")
	return "hello " + name, nil
}

func Greeter(ctx workflow.Context, name string) (string, error) {
	count := 0
	workflow.SetQueryHandler(ctx, "count", func() (int, error) { return count, nil })
	workflow.SetUpdateHandlerWithOptions(ctx, "add", func(ctx workflow.Context, n int) (int, error) {
		count += n
		return count, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, n int) error {
		if n > 10 {
			return fmt.Errorf("too big")
		}
		return nil
	}})
	ch := workflow.GetSignalChannel(ctx, "bump")
	workflow.Sleep(ctx, 50*time.Millisecond)
	var r string
	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteActivity(ao, Greet, name).Get(ctx, &r); err != nil {
		return "", err
	}
	ch.Receive(ctx, nil)
	return fmt.Sprintf("%s x%d", r, count), nil
}

func main() {
	c, err := client.Dial(client.Options{HostPort: os.Args[1]})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	w := worker.New(c, "go", worker.Options{})
	w.RegisterWorkflow(Greeter)
	w.RegisterActivity(Greet)
	if err := w.Start(); err != nil {
		panic(err)
	}
	defer w.Stop()
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("go-%d", time.Now().UnixNano()), TaskQueue: "go"}, Greeter, "go")
	if err != nil {
		panic(err)
	}
	time.Sleep(300 * time.Millisecond)
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: "add", Args: []interface{}{50}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		var v int
		err = h.Get(ctx, &v)
	}
	if err == nil || !strings.Contains(err.Error(), "too big") {
		panic(fmt.Sprintf("the validator should have rejected 50, got %v", err))
	}
	h, err = c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: "add", Args: []interface{}{5}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		panic(err)
	}
	var v int
	if err := h.Get(ctx, &v); err != nil {
		panic(err)
	}
	if v != 5 {
		panic(fmt.Sprintf("update returned %d", v))
	}
	q, err := c.QueryWorkflow(ctx, run.GetID(), "", "count")
	if err != nil {
		panic(err)
	}
	var qc int
	q.Get(&qc)
	if qc != 5 {
		panic(fmt.Sprintf("query returned %d", qc))
	}
	c.SignalWorkflow(ctx, run.GetID(), "", "bump", nil)
	var res string
	if err := run.Get(ctx, &res); err != nil {
		panic(err)
	}
	if res != "hello go x5" {
		panic("result " + res)
	}
	fmt.Println("ok", res)
}
