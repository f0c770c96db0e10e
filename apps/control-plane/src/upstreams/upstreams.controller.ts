import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { CreateUpstreamDto, UpstreamBodyDto, UpstreamDto } from './upstreams.dto';
import { UpstreamsService } from './upstreams.service';

@ApiTags('upstreams')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('nodes/:nodeId/upstreams')
export class UpstreamsController {
  constructor(@Inject(UpstreamsService) private readonly upstreams: UpstreamsService) {}

  @Get()
  @ApiOkResponse({ type: [UpstreamDto] })
  list(@Param('nodeId') nodeId: string): Promise<UpstreamDto[]> {
    return this.upstreams.list(nodeId);
  }

  @Post()
  @ApiOperation({
    summary:
      'Add an upstream (a cluster with its endpoints over EDS) (published to the node at once; 400/409/422 name the bad field)',
  })
  @ApiOkResponse({ type: UpstreamDto })
  create(@Param('nodeId') nodeId: string, @Body() body: CreateUpstreamDto): Promise<UpstreamDto> {
    return this.upstreams.create(nodeId, body);
  }

  @Get(':name')
  @ApiOkResponse({ type: UpstreamDto })
  get(@Param('nodeId') nodeId: string, @Param('name') name: string): Promise<UpstreamDto> {
    return this.upstreams.get(nodeId, name);
  }

  @Put(':name')
  @ApiOkResponse({ type: UpstreamDto })
  replace(
    @Param('nodeId') nodeId: string,
    @Param('name') name: string,
    @Body() body: UpstreamBodyDto,
  ): Promise<UpstreamDto> {
    return this.upstreams.replace(nodeId, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  remove(@Param('nodeId') nodeId: string, @Param('name') name: string): Promise<void> {
    return this.upstreams.remove(nodeId, name);
  }
}
