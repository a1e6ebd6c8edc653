# The official Python SDK (temporalio) against tandem: activity, timer, signal, query, and an
# update whose validator rejects (sandbox off: the workflow lives in this script).
import asyncio, os, sys, uuid
from datetime import timedelta
from temporalio import workflow, activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.worker import Worker, UnsandboxedWorkflowRunner
from temporalio.exceptions import ApplicationError

@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"

@workflow.defn
class Greeter:
    def __init__(self):
        self.count = 0
        self.done = False
    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(0.05)
        r = await workflow.execute_activity(greet, name, start_to_close_timeout=timedelta(seconds=10))
        await workflow.wait_condition(lambda: self.done)
        return f"{r} x{self.count}"
    @workflow.signal
    def bump(self): self.count += 1
    @workflow.signal
    def finish(self): self.done = True
    @workflow.query
    def current(self) -> int: return self.count
    @workflow.update
    def add(self, n: int) -> int:
        self.count += n
        return self.count
    @add.validator
    def validate_add(self, n: int):
        if n > 10: raise ValueError("too big")

async def main():
    addr = sys.argv[1]
    client = await Client.connect(addr, namespace="default")
    async with Worker(client, task_queue="py", workflows=[Greeter], activities=[greet], workflow_runner=UnsandboxedWorkflowRunner()):
        h = await client.start_workflow(Greeter.run, "py", id=f"py-{uuid.uuid4()}", task_queue="py")
        await h.signal(Greeter.bump)
        await asyncio.sleep(0.5)
        assert await h.query(Greeter.current) == 1
        try:
            await h.execute_update(Greeter.add, 50)
            raise AssertionError("the validator should have rejected 50")
        except WorkflowUpdateFailedError as e:
            assert "too big" in str(e.cause), e.cause
        assert await h.execute_update(Greeter.add, 5) == 6
        await h.signal(Greeter.finish)
        result = await h.result()
        assert result == "hello py x6", result
        print("ok", result)
asyncio.run(main())
# Every check passed. Skip interpreter finalization: the SDK's native runtime threads can race
# it and abort the process after the work is done (seen with temporalio 1.35).
sys.stdout.flush()
os._exit(0)
