import { Body, Controller, Get, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { NodesDto, NodeWasmDto, RolloutDto, UploadQueryDto, WasmModuleDto } from './wasm.dto';
import { WasmService } from './wasm.service';

@ApiTags('wasm')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller()
export class WasmController {
  constructor(@Inject(WasmService) private readonly wasm: WasmService) {}

  @Get('wasm/modules')
  @ApiOkResponse({ type: [WasmModuleDto] })
  list(): Promise<WasmModuleDto[]> {
    return this.wasm.list();
  }

  @Post('wasm/modules')
  @ApiOperation({
    summary:
      'Upload a module version (body: the .wasm, Content-Type application/wasm; size-limited by WASM_MAX_BYTES; refused unless its SHA-256 matches)',
  })
  @ApiConsumes('application/wasm')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ type: WasmModuleDto })
  upload(@Query() q: UploadQueryDto, @Body() body: unknown): Promise<WasmModuleDto> {
    return this.wasm.upload(q.version, q.sha256, body);
  }

  @Post('wasm/rollouts')
  @ApiOperation({
    summary:
      'Roll a version to chosen nodes over ECDS (their listeners are not touched: no connection is drained)',
  })
  @ApiOkResponse({ type: [NodeWasmDto] })
  rollout(@Body() body: RolloutDto): Promise<NodeWasmDto[]> {
    return this.wasm.rollout(body.version, body.nodes);
  }

  @Post('wasm/rollbacks')
  @ApiOperation({
    summary: 'Return chosen nodes to the version they ran before their last rollout',
  })
  @ApiOkResponse({ type: [NodeWasmDto] })
  rollback(@Body() body: NodesDto): Promise<NodeWasmDto[]> {
    return this.wasm.rollback(body.nodes);
  }

  @Get('nodes/:nodeId/wasm')
  @ApiOkResponse({ type: NodeWasmDto })
  node(@Param('nodeId') nodeId: string): Promise<NodeWasmDto> {
    return this.wasm.node(nodeId);
  }
}
