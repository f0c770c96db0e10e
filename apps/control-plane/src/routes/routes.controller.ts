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
import { CreateRouteDto, RouteBodyDto, RouteDto } from './routes.dto';
import { RoutesService } from './routes.service';

@ApiTags('routes')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('nodes/:nodeId/routes')
export class RoutesController {
  constructor(@Inject(RoutesService) private readonly routes: RoutesService) {}

  @Get()
  @ApiOkResponse({ type: [RouteDto] })
  list(@Param('nodeId') nodeId: string): Promise<RouteDto[]> {
    return this.routes.list(nodeId);
  }

  @Post()
  @ApiOperation({
    summary: 'Add a route (published to the node at once; 400/409/422 name the bad field)',
  })
  @ApiOkResponse({ type: RouteDto })
  create(@Param('nodeId') nodeId: string, @Body() body: CreateRouteDto): Promise<RouteDto> {
    return this.routes.create(nodeId, body);
  }

  @Get(':name')
  @ApiOkResponse({ type: RouteDto })
  get(@Param('nodeId') nodeId: string, @Param('name') name: string): Promise<RouteDto> {
    return this.routes.get(nodeId, name);
  }

  @Put(':name')
  @ApiOkResponse({ type: RouteDto })
  replace(
    @Param('nodeId') nodeId: string,
    @Param('name') name: string,
    @Body() body: RouteBodyDto,
  ): Promise<RouteDto> {
    return this.routes.replace(nodeId, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  remove(@Param('nodeId') nodeId: string, @Param('name') name: string): Promise<void> {
    return this.routes.remove(nodeId, name);
  }
}
