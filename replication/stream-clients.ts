// One grpc-js client per remote frontend address, shared by every receiver of the process.
import * as grpc from '@grpc/grpc-js';
import { internalChannelOptions } from '../services/rpc/definition.js';
import { ReplicationServiceClient, type StreamShardRequest, type StreamShardResponse } from '../proto/gen/tandem/replication/v1/replication.js';

export type ReceiverCall = grpc.ClientDuplexStream<StreamShardRequest, StreamShardResponse>;

export class StreamClients {
  private readonly clients = new Map<string, InstanceType<typeof ReplicationServiceClient>>();

  constructor(private readonly credentials = grpc.credentials.createInsecure()) {}

  open(address: string): ReceiverCall {
    let client = this.clients.get(address);
    if (!client) {
      client = new ReplicationServiceClient(address, this.credentials, internalChannelOptions);
      this.clients.set(address, client);
    }
    return client.streamShard();
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
